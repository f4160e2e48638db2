import SystemCalls

/// The CA bundle of a `TLS_CA_FILE`, reduced to its certificates before udp2tcp gets it.
///
/// udp2tcp runs unprivileged and reads the bundle from a descriptor vpn-init opened: were the
/// file handed over as it is, a bundle that also holds a private key (a combined PEM file), or a
/// path that names some other root-only file by mistake, would reach the helper that parses the
/// network. So vpn-init reads the file itself and hands over only its certificate blocks.
public enum CertificateBundle {
    /// The largest bundle read (the system roots are about 200 KB).
    public static let sizeLimit = 1 << 20

    /// The PEM labels a CA bundle may carry (the ones OpenSSL's and BoringSSL's CA file loading
    /// reads as certificates).
    static let labels = ["CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"]

    /// The certificate blocks of `pem`, each from its BEGIN line to its END line, one after
    /// another; nil when there is none. Everything else (text, private keys, a block whose body
    /// is not base64, an unterminated block) is left out.
    public static func certificates(in pem: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        var block: [UInt8]?
        var label = ""
        for rawLine in pem.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var line = rawLine[...]
            while let last = line.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
                line = line.dropLast()
            }
            let text = String(decoding: line, as: UTF8.self)
            if block == nil {
                if let found = labels.first(where: { text == "-----BEGIN \($0)-----" }) {
                    label = found
                    block = Array(line) + [UInt8(ascii: "\n")]
                }
                continue
            }
            if text == "-----END \(label)-----" {
                output += block! + Array(line) + [UInt8(ascii: "\n")]
                block = nil
            } else if line.allSatisfy(isBase64) {
                block! += Array(line) + [UInt8(ascii: "\n")]
            } else {
                block = nil  // not a certificate's body: the block is dropped
            }
        }
        return output.isEmpty ? nil : output
    }

    /// Reads `path` and keeps its certificates. The error says what is wrong with the file.
    public static func load(_ path: String) throws(CertificateBundleError) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try Files.read(path, limit: sizeLimit) } catch { throw .system(error) }
        guard let certificates = certificates(in: bytes) else { throw .noCertificate(path: path) }
        return certificates
    }

    private static func isBase64(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
            true
        default:
            false
        }
    }
}

/// Why a `TLS_CA_FILE` cannot be used.
public enum CertificateBundleError: Error, Equatable, CustomStringConvertible {
    /// It could not be read (missing, unreadable, larger than the limit).
    case system(SystemCallError)
    /// It holds no PEM certificate.
    case noCertificate(path: String)

    public var description: String {
        switch self {
        case .system(let error): "\(error)"
        case .noCertificate(let path): "\(path): no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
        }
    }
}
