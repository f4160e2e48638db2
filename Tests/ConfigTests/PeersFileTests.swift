#if canImport(Glibc)
import Glibc
#endif
@testable import Config
import Testing
import WireGuardModel

/// `WG_PEERS_FILE`: peers from a file, with the environment's names and checks, problems placed
/// at `FILE:LINE`.
@Suite struct PeersFileTests {
    /// Writes `text` to a new temporary file and returns its path.
    static func file(_ text: String) -> String {
        var template = Array("/tmp/peers-file-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static let peerC = """
        # peer C, written by the registry
        WG_PEER_C_PUBLIC_KEY=\(Keys.peerA)

          WG_PEER_C_ALLOWED_IPS=10.0.0.3/32\r
        WG_PEER_C_ENDPOINT=node-c:51820
        """

    @Test func linesCommentsAndBlanks() {
        let (file, problems) = PeersFile.parse(Self.peerC + "\nWG_PEER_D_TLS_SNI=a=b.example\n", path: "/p")
        #expect(problems.isEmpty)
        #expect(file.entries.map(\.name) == ["WG_PEER_C_PUBLIC_KEY", "WG_PEER_C_ALLOWED_IPS", "WG_PEER_C_ENDPOINT", "WG_PEER_D_TLS_SNI"])
        #expect(file.entries.map(\.line) == [2, 4, 5, 6])
        #expect(file.entries[1].value == "10.0.0.3/32" && file.entries[3].value == "a=b.example")
    }

    @Test func badLinesAreNamedByLine() {
        let text = "WG_PEER_C_PUBLIC_KEY=\(Keys.peerA)\njust words\nWG_MTU=1400\nWG_PEER_C_PUBLIC_KEY=\(Keys.peerB)\nWG_PEER_C_ENDPOIN=x:1\n"
        let (_, problems) = PeersFile.parse(text, path: "/etc/peers")
        #expect(problems.map(\.description) == [
            "/etc/peers:2: expected WG_PEER_<NAME>_<FIELD>=value",
            "/etc/peers:3: WG_MTU: only WG_PEER_ variables belong in WG_PEERS_FILE; set the others in the environment",
            "/etc/peers:4: WG_PEER_C_PUBLIC_KEY: set again (first on line 1)",
            "/etc/peers:5: WG_PEER_C_ENDPOIN: no such peer field (the fields: \(PeerField.allCases.map(\.rawValue).joined(separator: ", ")))",
        ])
        #expect(!problems.description.contains(Keys.peerB))
    }

    @Test func peersComeFromBothPlaces() throws {
        let path = Self.file(Self.peerC)
        defer { unlink(path) }
        let config = try VPNConfig.parse(environment: environment(["WG_PEERS_FILE": path], base: peerB))
        #expect(config.peers.map(\.name) == ["B", "C"])
        #expect(config.peers[1].endpoint?.description == "node-c:51820")
        #expect(config.peersFile == path)
    }

    @Test func aBadValueInTheFileIsPlacedAtItsLine() throws {
        let path = Self.file(Self.peerC.replacingOccurrences(of: "node-c:51820", with: "node-c"))
        defer { unlink(path) }
        #expect(throws: ConfigErrors.self) { try VPNConfig.parse(environment: environment(["WG_PEERS_FILE": path], base: peerB)) }
        do {
            _ = try VPNConfig.parse(environment: environment(["WG_PEERS_FILE": path], base: peerB))
        } catch {
            #expect(error.description == "\(path):5: WG_PEER_C_ENDPOINT: missing port in \"node-c\"")
        }
    }

    @Test func aPeerInBothPlacesIsRefused() throws {
        let path = Self.file("WG_PEER_B_ENDPOINT=node-b:51820\n")
        defer { unlink(path) }
        do {
            _ = try VPNConfig.parse(environment: environment(["WG_PEERS_FILE": path], base: peerB))
            Issue.record("a peer in both places must be refused")
        } catch {
            #expect(error.description == "\(path):1: WG_PEER_B_ENDPOINT: peer WG_PEER_B_* is defined both in the environment (WG_PEER_B_ALLOWED_IPS) and in \(path)")
        }
    }

    @Test func aMissingFileIsNamed() {
        do {
            _ = try VPNConfig.parse(environment: environment(["WG_PEERS_FILE": "/nonexistent/peers"]))
            Issue.record("a missing file must be refused")
        } catch {
            #expect(error.problems.map(\.variable) == ["WG_PEERS_FILE"])
            #expect(error.description.contains("/nonexistent/peers") && error.description.contains("ENOENT"))
        }
    }

    @Test func aRelativePathIsRefused() {
        #expect(throws: ConfigErrors.self) { try VPNConfig.parse(environment: environment(["WG_PEERS_FILE": "peers"])) }
    }
}
