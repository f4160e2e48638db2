import Glibc
import Testing
import SystemCalls
@testable import Config
import WireGuardModel

/// A fresh directory under /tmp, removed by the caller with `removeTree`.
private func temporaryDirectory() -> String {
    var template = Array("/tmp/keystore-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    return path
}

private func removeTree(_ path: String) {
    let command = "rm -rf '\(path)'"
    _ = system(command)
}

private func mode(_ path: String) -> mode_t {
    var info = stat()
    stat(path, &info)
    return info.st_mode & 0o777
}

private func text(_ path: String) -> String {
    String(decoding: (try? Files.read(path)) ?? [], as: UTF8.self)
}

private func write(_ path: String, _ content: String, mode: mode_t) {
    try! Files.writeAtomically(path, Array(content.utf8), mode: mode)
}

@Suite struct KeyStoreTests {
    @Test func firstBootCreatesThePrivateKeyAndPublicKey() throws {
        let root = temporaryDirectory()
        defer { removeTree(root) }
        let store = KeyStore(privateKeyPath: "\(root)/data/privatekey")
        let (key, created) = try store.loadOrCreate()
        #expect(created)
        #expect(mode("\(root)/data") == 0o700)
        #expect(mode("\(root)/data/privatekey") == 0o600)
        #expect(text("\(root)/data/privatekey") == key.base64 + "\n")
        #expect(text("\(root)/data/publickey") == key.publicKey().base64 + "\n")
        // Atomic writes leave no temporary files behind.
        let listing = try directoryEntries("\(root)/data")
        #expect(listing == ["privatekey", "publickey"])
    }

    @Test func laterBootsReuseTheKey() throws {
        let root = temporaryDirectory()
        defer { removeTree(root) }
        let store = KeyStore(privateKeyPath: "\(root)/privatekey")
        let first = try store.loadOrCreate()
        let second = try store.loadOrCreate()
        #expect(!second.created)
        #expect(second.key == first.key)
    }

    @Test func aStalePublicKeyFileIsRewritten() throws {
        let root = temporaryDirectory()
        defer { removeTree(root) }
        let store = KeyStore(privateKeyPath: "\(root)/privatekey")
        let key = try store.loadOrCreate().key
        write("\(root)/publickey", "stale\n", mode: 0o644)
        _ = try store.loadOrCreate()
        #expect(text("\(root)/publickey") == key.publicKey().base64 + "\n")
    }

    @Test(arguments: ["", "not a key\n", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo", String(repeating: "A", count: 5000)])
    func aCorruptKeyIsAnErrorAndIsNeverOverwritten(content: String) throws {
        let root = temporaryDirectory()
        defer { removeTree(root) }
        let path = "\(root)/privatekey"
        write(path, content, mode: 0o600)
        #expect(throws: KeyStoreError.self) { try KeyStore(privateKeyPath: path).loadOrCreate() }
        #expect(text(path) == content)
        do {
            _ = try KeyStore(privateKeyPath: path).loadOrCreate()
        } catch {
            #expect(error.exitCode == .configuration)
            #expect("\(error)".contains(path))
            if !content.isEmpty { #expect(!"\(error)".contains(content)) }
        }
    }

    @Test func aKeyWithSurroundingWhiteSpaceIsAccepted() throws {
        let root = temporaryDirectory()
        defer { removeTree(root) }
        let key = try WireGuardKey.generatePrivate()
        write("\(root)/privatekey", "  \(key.base64)\r\n\n", mode: 0o600)
        #expect(try KeyStore(privateKeyPath: "\(root)/privatekey").loadOrCreate().key == key)
    }

    @Test func aDirectoryInPlaceOfTheKeyIsAnError() throws {
        let root = temporaryDirectory()
        defer { removeTree(root) }
        mkdir("\(root)/privatekey", 0o700)
        #expect(throws: KeyStoreError.notRegularFile(path: "\(root)/privatekey")) {
            try KeyStore(privateKeyPath: "\(root)/privatekey").loadOrCreate()
        }
    }

    @Test func aLooseKeyFileIsTightened() throws {
        let root = temporaryDirectory()
        defer { removeTree(root) }
        let store = KeyStore(privateKeyPath: "\(root)/privatekey")
        let key = try store.loadOrCreate().key
        chmod("\(root)/privatekey", 0o644)
        #expect(try store.loadOrCreate().key == key)
        #expect(mode("\(root)/privatekey") == 0o600)
    }

    /// A directory that refuses new files: a read-only one for an ordinary user; root ignores
    /// permission bits, so for root a file system that accepts no new files (/proc) stands in.
    @Test func anUnwritableDirectoryFailsNamingThePathAndLeavesNoFile() throws {
        let root = temporaryDirectory()
        defer { chmod(root, 0o700); removeTree(root) }
        let directory: String
        if geteuid() == 0 {
            directory = "/proc/self"
        } else {
            chmod(root, 0o500)
            directory = root
        }
        let path = "\(directory)/privatekey"
        do {
            _ = try KeyStore(privateKeyPath: path).loadOrCreate()
            Issue.record("expected a write failure")
        } catch {
            #expect(error.exitCode == .failure)
            #expect("\(error)".contains(directory))
        }
        #expect(!Files.exists(path))
        if geteuid() != 0 { #expect(try directoryEntries(root).isEmpty) }
    }

    @Test func exportWritesThePublicKeyAtomically() throws {
        let root = temporaryDirectory()
        defer { removeTree(root) }
        let key = try WireGuardKey.generatePrivate().publicKey()
        try exportPublicKey(key, to: "\(root)/shared/node-a.pub")
        #expect(text("\(root)/shared/node-a.pub") == key.base64 + "\n")
        #expect(mode("\(root)/shared/node-a.pub") == 0o644)
        try exportPublicKey(key, to: "\(root)/shared/node-a.pub")
        #expect(try directoryEntries("\(root)/shared") == ["node-a.pub"])
    }
}

private func directoryEntries(_ path: String) throws -> [String] {
    guard let directory = opendir(path) else { throw SystemCallError.current("opendir", path) }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
