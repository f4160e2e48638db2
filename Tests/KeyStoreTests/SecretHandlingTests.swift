import Glibc
import Testing
import SystemCalls
@testable import Config

@Suite struct CertificateBundleTests {
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBszCCAVmgAwIBAgIUQ2Fub3RoZXJDZXJ0aWZpY2F0ZTAKBggqhkjOPQQDAjAR
        MQ8wDQYDVQQDDAZ0ZXN0Q0EwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAxMDAwMDAw
        -----END CERTIFICATE-----

        """
    static let privateKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgc2VjcmV0c2VjcmV0
        -----END PRIVATE KEY-----

        """

    func bundle(_ text: String) -> String? {
        CertificateBundle.certificates(in: Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func keepsCertificatesAndDropsAPrivateKey() {
        let combined = "subject=CN = testCA\n" + Self.privateKey + Self.certificate + Self.certificate
        #expect(bundle(combined) == Self.certificate + Self.certificate)
        #expect(bundle(Self.privateKey + Self.certificate)?.contains("PRIVATE") == false)
    }

    @Test func readsCRLFLinesAndOtherCertificateLabels() {
        let crlf = Self.certificate.replacing("\n", with: "\r\n")
        #expect(bundle(crlf) == Self.certificate)
        let trusted = Self.certificate.replacing("CERTIFICATE", with: "TRUSTED CERTIFICATE")
        #expect(bundle(trusted) == trusted)
    }

    @Test func refusesFilesWithoutACertificate() {
        #expect(bundle("") == nil)
        #expect(bundle(Self.privateKey) == nil)
        #expect(bundle("not a PEM file\n") == nil)
        // Unterminated, or with a body that is not base64: no certificate.
        #expect(bundle(String(Self.certificate.dropLast(27))) == nil)
        #expect(bundle(Self.certificate.replacing("MQ8w", with: "MQ8w SECRET")) == nil)
        // A BEGIN line inside a block does not start a certificate of its own.
        #expect(bundle("-----BEGIN CERTIFICATE-----\n" + Self.privateKey) == nil)
    }

    @Test func loadNamesThePath() {
        #expect(throws: CertificateBundleError.noCertificate(path: "/dev/null")) { try CertificateBundle.load("/dev/null") }
        #expect("\(CertificateBundleError.noCertificate(path: "/x/ca.pem"))".hasPrefix("/x/ca.pem: no PEM certificate"))
        do {
            _ = try CertificateBundle.load("/nonexistent/ca.pem")
            Issue.record("a missing file was accepted")
        } catch {
            #expect("\(error)".contains("/nonexistent/ca.pem"))
        }
    }
}

@Suite(.serialized) struct ProcessHardeningTests {
    @Test func erasesAnEnvironmentValueInPlace() {
        setenv("VPN_TEST_SECRET", "hunter2-hunter2", 1)
        setenv("VPN_TEST_SECRET_NOT", "kept", 1)
        let entry = getenv("VPN_TEST_SECRET")!
        #expect(ProcessHardening.eraseEnvironmentValue("VPN_TEST_SECRET") == 1)
        // The same bytes are now zero, and the neighbour with a longer name is untouched.
        #expect(entry[0] == 0 && strlen(entry) == 0)
        #expect(String(cString: getenv("VPN_TEST_SECRET")!) == "")
        #expect(String(cString: getenv("VPN_TEST_SECRET_NOT")!) == "kept")
        #expect(ProcessHardening.eraseEnvironmentValue("VPN_TEST_ABSENT") == 0)
        unsetenv("VPN_TEST_SECRET")
        unsetenv("VPN_TEST_SECRET_NOT")
    }

    @Test func sealedMemoryFileHoldsTheBytesAndCannotChange() throws {
        let bytes = Array("-----BEGIN CERTIFICATE-----\n".utf8)
        let fd = try ProcessHardening.sealedMemoryFile(named: "test", bytes)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        #expect(Array(buffer.prefix(max(count, 0))) == bytes)
        #expect(write(fd, "x", 1) == -1 && errno == EPERM)
        #expect(ftruncate(fd, 0) == -1 && errno == EPERM)
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test func notDumpable() throws {
        try ProcessHardening.makeNotDumpable()
        #expect(!ProcessHardening.isDumpable)
    }
}
