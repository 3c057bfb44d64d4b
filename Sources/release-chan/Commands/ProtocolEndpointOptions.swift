import ArgumentParser
import ReleaseChannelClient

/// Where the binary protocol commands connect.
struct ProtocolEndpointOptions: ParsableArguments {
    @Option(name: .customLong("tcp"), help: "Server address HOST[:PORT] of the binary protocol (port 8090 by default; [IPv6]:PORT); repeat for failover.")
    var endpoints: [String] = ["127.0.0.1:8090"]

    @Option(parsing: .unconditional, help: "Seconds to wait for each endpoint to connect (retrying while the server starts; with several --tcp, each gets this long in turn) and for each reply.")
    var timeout: Double = 5

    func configuration() throws -> ReleaseChannelClientConfiguration {
        let endpoints = try self.endpoints.map { text in
            guard let endpoint = ReleaseChannelClientConfiguration.Endpoint(text) else {
                throw ValidationError("--tcp \"\(text)\" is not HOST[:PORT] (a port is 1–65535)")
            }
            return endpoint
        }
        // A day is far past any useful wait, and keeps the milliseconds within Int64 (inf crashed the conversion).
        guard self.timeout > 0, self.timeout <= 86_400 else {
            throw ValidationError("--timeout must be a number of seconds above 0 and at most 86400, not \(self.timeout)")
        }
        var configuration = ReleaseChannelClientConfiguration(endpoints: endpoints)
        configuration.connections = 1
        configuration.connectTimeout = .milliseconds(Int64(self.timeout * 1000))
        configuration.requestTimeout = .milliseconds(Int64(self.timeout * 1000))
        configuration.clientName = "release-chan-cli"
        return configuration
    }
}
