import Foundation
import NIOCore
import ReleaseChannelStore

extension ReleaseEntry {
    /// The `image` of the served JSON object: what a client of the HTTP API reads.
    var image: String? {
        let object = try? JSONSerialization.jsonObject(with: Data(self.body.readableBytesView)) as? [String: Any]
        return object?["image"] as? String
    }
}
