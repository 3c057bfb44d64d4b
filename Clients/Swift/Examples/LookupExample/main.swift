// A complete program using the SDK: looks up one release, then follows revision changes from an
// in-memory cache. Run a server first (`swift run release-chan serve`), then:
//   swift run release-chan-example my-app prod
import ReleaseChannelClient

let arguments = CommandLine.arguments.dropFirst()
let container = arguments.first ?? "my-app"
let channel = arguments.dropFirst().first ?? "prod"

var configuration = ReleaseChannelClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: 8090)])
configuration.cached = true  // answer lookups from memory, refreshed on every change

do {
    try await ReleaseChannelClient.withClient(configuration: configuration) { client in
        let release = try await client.release(container: container, channel: channel)
        print("\(container) on \(channel): \(release?.image ?? "no release")")

        // Print the first three changes (edit db/db.json to see them), answering each from the cache.
        var changes = 0
        for await change in client.revisionChanges() {
            let image = try await client.release(container: container, channel: channel)?.image
            print("revision \(change.revision): \(container) on \(channel) is \(image ?? "gone")")
            changes += 1
            if changes == 3 { break }
        }
    }
} catch {
    print("error: \(error)")
}
