#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import ServiceLifecycle

/// Runs a service that listens on an address, and names the listener and the address when it cannot
/// bind: NIO's error says only "bind(descriptor:ptr:bytes:): Address already in use", which leaves an
/// operator to guess which of the two ports was taken.
struct ListenerService: Service {
    let listener: String
    let host: String
    let port: Int
    let base: any Service

    func run() async throws {
        do {
            try await self.base.run()
        } catch let error as IOError where [EADDRINUSE, EADDRNOTAVAIL, EACCES].contains(error.errnoCode) {
            throw ListenError(listener: self.listener, host: self.host, port: self.port, reason: String(cString: strerror(error.errnoCode)))
        } catch let error as SocketAddressError.UnknownHost {
            // A host that is no address and resolves to none (a typo, a name missing from DNS): NIO's
            // error does not say which listener, and the process would end with the "db" status.
            throw ListenError(
                listener: self.listener, host: self.host, port: self.port,
                reason: "the host is not an IP address and does not resolve to one (\(error.errorDescription))"
            )
        } catch is SocketAddressError {
            throw ListenError(listener: self.listener, host: self.host, port: self.port, reason: "the host is not an address to listen on")
        }
    }
}
