#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SystemCalls

/// Integration tests need root (namespaces, tun devices); elsewhere they are skipped.
let runningAsRoot = getuid() == 0
let rootOnly = "integration test: needs root to create network namespaces (run as root, as CI does)"

/// A network namespace made for one test (`ip netns add`), deleted by `delete()`. It has only
/// a loopback interface: no route leads anywhere else.
final class TestNamespace {
    let name: String
    private nonisolated(unsafe) static var counter = 0

    init(_ prefix: String) throws {
        TestNamespace.counter += 1
        name = "\(prefix)\(getpid())x\(TestNamespace.counter)"
        try run(["ip", "netns", "add", name])
        try run(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    func delete() {
        _ = try? run(["ip", "netns", "del", name])
    }

    /// Runs `body` with the calling thread inside the namespace: sockets opened there stay in
    /// it. The thread returns to its own namespace afterwards.
    func entered<T>(_ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        let target = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        defer { _ = close(original); _ = close(target) }
        guard original >= 0, target >= 0 else { throw SystemCallError.current("open", "/run/netns/\(name)") }
        guard setNamespace(target, cloneNewNet) == 0 else { throw SystemCallError.current("setns", name) }
        defer { precondition(setNamespace(original, cloneNewNet) == 0, "cannot return to the original network namespace") }
        return try body()
    }

    /// `ip -n NAME -j ARGS...` parsed.
    func json(_ arguments: [String]) throws -> [[String: Any]] {
        let output = try run(["ip", "-n", name, "-j"] + arguments)
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
    }
}

private let cloneNewNet: Int32 = 0x4000_0000  // CLONE_NEWNET
/// `setns(2)`, looked up at run time: Glibc's Swift module does not declare it.
private let setNamespace: @convention(c) (Int32, Int32) -> Int32 = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { fatalError("no setns in libc") }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
}()

struct CommandFailed: Error, CustomStringConvertible {
    var description: String
}

/// Runs a command to completion; throws with its output when it fails.
@discardableResult
func run(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandFailed(description: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
    }
    return output
}

/// Waits up to `seconds` for `condition`, checking every 50 ms.
func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
