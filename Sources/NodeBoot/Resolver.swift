#if canImport(Glibc)
import Glibc
#endif
import WireGuard
import WireGuardModel

/// Host-name resolution for peer endpoints (`getaddrinfo`, so /etc/hosts and Docker's DNS).
enum Resolver {
    /// The first address of `endpoint`'s host (IPv4 preferred, as most underlays are), or the
    /// endpoint itself when it is an address. Throws the resolver's message on failure.
    static func resolve(_ endpoint: Endpoint) throws(ResolveError) -> Endpoint {
        guard case .name(let name) = endpoint.host else { return endpoint }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let list else {
            throw ResolveError(host: name, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            if let address = entry.pointee.ai_addr.flatMap(ipAddress(of:)) { addresses.append(address) }
            cursor = entry.pointee.ai_next
        }
        guard let chosen = addresses.first(where: { !$0.isV6 }) ?? addresses.first else {
            throw ResolveError(host: name, reason: "no IPv4 or IPv6 address")
        }
        return Endpoint(host: .address(chosen), port: endpoint.port)
    }

    private static func ipAddress(of socketAddress: UnsafeMutablePointer<sockaddr>) -> IPAddress? {
        switch Int32(socketAddress.pointee.sa_family) {
        case AF_INET:
            return socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin_addr) { .v4(Array($0)) }
            }
        case AF_INET6:
            return socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { .v6(Array($0)) }
            }
        default:
            return nil
        }
    }
}

/// A host name that did not resolve.
struct ResolveError: Error, CustomStringConvertible {
    var host: String
    var reason: String
    var description: String { "cannot resolve \"\(host)\": \(reason)" }
}
