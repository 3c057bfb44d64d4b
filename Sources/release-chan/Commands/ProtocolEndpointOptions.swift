import ArgumentParser
import ReleaseChannelClient

/// Where the binary protocol commands connect.
struct ProtocolEndpointOptions: ParsableArguments {
    @Option(name: .customLong("tcp"), help: "Server address HOST[:PORT] of the binary protocol (port 8090 by default; [IPv6]:PORT); repeat for failover.")
    var endpoints: [String] = ["127.0.0.1:8090"]

    @Option(help: "Seconds to wait for each endpoint to connect (retrying while the server starts; with several --tcp, each gets this long in turn) and for each reply.")
    var timeout: Double = 5

    func configuration() throws -> ReleaseChannelClientConfiguration {
        let endpoints = try self.endpoints.map { text in
            guard let endpoint = ReleaseChannelClientConfiguration.Endpoint(text) else {
                throw ValidationError("--tcp \"\(text)\" is not HOST[:PORT] (a port is 1–65535)")
            }
            return endpoint
        }
        guard self.timeout > 0 else { throw ValidationError("--timeout must be positive") }
        var configuration = ReleaseChannelClientConfiguration(endpoints: endpoints)
        configuration.connections = 1
        configuration.connectTimeout = .milliseconds(Int64(self.timeout * 1000))
        configuration.requestTimeout = .milliseconds(Int64(self.timeout * 1000))
        configuration.clientName = "release-chan-cli"
        return configuration
    }
}
