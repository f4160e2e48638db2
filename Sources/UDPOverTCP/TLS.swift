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
            try checkReadable(caFile, what: "--tls-ca-file")
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
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

private func checkReadable(_ path: String, what: String) throws {
    guard access(path, R_OK) == 0 else {
        let code = errno
        throw TLSSetupError("\(what) \(path): \(String(cString: strerror(code)))")
    }
}
