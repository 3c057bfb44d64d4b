import Foundation
import ReleaseChannelProtocol

/// The whole db held in memory for cached mode: built once per revision, never mutated, so a lookup is
/// two dictionary reads.
final class CachedDatabase: Sendable {
    let revision: Revision
    let channels: [String]
    private let releases: [String: [String: ChannelRelease]]

    private struct Document: Decodable {
        struct Entry: Decodable {
            let container: String
            let channel: String
            let image: String
            let digest: String?
            let updated_at: String
        }

        let channels: [String]
        let releases: [Entry]
    }

    /// Decodes the canonical db JSON a SNAPSHOT carries.
    init(revision: Revision, json: Data) throws {
        let document = try JSONDecoder().decode(Document.self, from: json)
        var releases: [String: [String: ChannelRelease]] = [:]
        for entry in document.releases {
            releases[entry.container, default: [:]][entry.channel] = ChannelRelease(
                container: entry.container,
                channel: entry.channel,
                image: entry.image,
                digest: entry.digest,
                updatedAt: entry.updated_at
            )
        }
        self.revision = revision
        self.channels = document.channels
        self.releases = releases
    }

    func release(container: String, channel: String) -> ChannelRelease? {
        self.releases[container]?[channel]
    }

    /// A container's releases in promotion order.
    func releases(container: String) -> [ChannelRelease] {
        guard let byChannel = self.releases[container] else { return [] }
        return self.channels.compactMap { byChannel[$0] }
    }
}
