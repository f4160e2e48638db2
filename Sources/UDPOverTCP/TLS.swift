import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// udp2tcp's `--tls`: dial with TLS, send `serverName` as SNI and require a certificate for it.
public struct ClientTLSSettings: Equatable, Sendable {
    /// `--tls-sni`: the SNI and the name the certificate must carry, e.g. `<app-id>-443.<gateway>`.
    public var serverName: String
    /// `--tls-ca-file`: PEM bundle of trusted roots; nil means the system roots.
    public var caFile: String?

    public init(serverName: String, caFile: String? = nil) {
        self.serverName = serverName
        self.caFile = caFile
    }

    func makeContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            let pem = try readPEMFile(caFile, what: "--tls-ca-file")
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem))
            } catch {
                throw TLSSetupError("--tls-ca-file \(caFile): no PEM certificate could be read (\(error))")
            }
        } else {
            configuration.trustRoots = .default
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// tcp2udp's `--tls-cert` / `--tls-key`: terminate TLS itself.
public struct ServerTLSSettings: Equatable, Sendable {
    /// PEM certificate chain, leaf first.
    public var certificateFile: String
    /// PEM private key of the leaf.
    public var keyFile: String

    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    func makeContext() throws -> NIOSSLContext {
        try checkReadable(certificateFile, what: "--tls-cert")
        try checkReadable(keyFile, what: "--tls-key")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw TLSSetupError("--tls-cert \(certificateFile): no PEM certificate could be read (\(error))")
        }
        guard !chain.isEmpty else { throw TLSSetupError("--tls-cert \(certificateFile): no certificate in the file") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            // The key's bytes never appear in the message.
            throw TLSSetupError("--tls-key \(keyFile): no PEM private key could be read")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("--tls-cert \(certificateFile) / --tls-key \(keyFile): \(error) (does the key match the certificate?)")
        }
    }
}

/// A TLS file or setting that cannot be used.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// The bytes of a PEM file. `/dev/fd/N` is read from the inherited descriptor N itself rather
/// than opened again, so a parent may hand over a file this process could not open (vpn-init
/// opens a peer's CA file as root and runs udp2tcp as an unprivileged user).
func readPEMFile(_ path: String, what: String, limit: Int = 16 << 20) throws -> [UInt8] {
    let descriptor: CInt
    let inherited: Bool
    if path.hasPrefix("/dev/fd/"), let number = CInt(path.dropFirst("/dev/fd/".count)), number >= 0 {
        descriptor = number
        inherited = true
    } else {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        inherited = false
    }
    guard descriptor >= 0 || inherited else {
        let code = errno
        throw TLSSetupError("\(what) \(path): \(String(cString: strerror(code)))")
    }
    defer { if !inherited { close(descriptor) } }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let count = read(descriptor, &chunk, chunk.count)
        if count < 0 && errno == EINTR { continue }
        if count < 0 {
            let code = errno
            throw TLSSetupError("\(what) \(path): \(String(cString: strerror(code)))")
        }
        if count == 0 { break }
        bytes += chunk[0..<count]
        if bytes.count > limit { throw TLSSetupError("\(what) \(path): larger than \(limit >> 20) MiB") }
    }
    return bytes
}

private func checkReadable(_ path: String, what: String) throws {
    guard access(path, R_OK) == 0 else {
        let code = errno
        throw TLSSetupError("\(what) \(path): \(String(cString: strerror(code)))")
    }
}
