import Foundation
import ReleaseChannelModel

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The db whose keys a load draws: a file (`--db`), or the one the server serves, fetched from its HTTP
/// API before the load starts, so that every key exists on the server under test.
enum ServedDatabase {
    /// Why the db could not be had: the source, and what went wrong there.
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    /// The db in the file at `path`.
    static func read(path: String) throws -> ReleaseDatabase {
        let bytes: [UInt8]
        do {
            bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw Unavailable(description: "cannot read --db \(path): \(error.localizedDescription)")
        }
        return try self.decode(bytes, source: "--db \(path)")
    }

    /// The db that the server at `host`:`port` serves, from `GET /v1/releases` (docs/http-api.md §4.3).
    static func fetch(host: String, port: Int) async throws -> ReleaseDatabase {
        let address = "http://\(WireRequests.hostHeader(host: host, port: port))/v1/releases"
        guard let url = URL(string: address) else { throw Unavailable(description: "not a URL: \(address)") }
        var request = URLRequest(url: url)
        request.timeoutInterval = 30
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Unavailable(description: "cannot fetch the served db from \(address): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw Unavailable(description: "cannot fetch the served db from \(address): HTTP \(status) \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return try self.decode(Array(data), source: address)
    }

    private static func decode(_ bytes: [UInt8], source: String) throws -> ReleaseDatabase {
        let database: ReleaseDatabase
        do {
            database = try DatabaseDecoder.decode(bytes)
        } catch {
            throw Unavailable(description: "\(source) is not a valid db: \(error)")
        }
        guard !database.releases.isEmpty else { throw Unavailable(description: "\(source) has no releases") }
        return database
    }
}
