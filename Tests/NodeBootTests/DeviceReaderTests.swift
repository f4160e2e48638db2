#if canImport(Glibc)
import Glibc
#endif
@testable import NodeBoot
import SystemCalls
import Testing
import WireGuard
import WireGuardModel

/// `DeviceReader` against a UAPI socket nobody serves but the test: reads in flight are shared,
/// an unanswered one fails at its timer, and wireguard-go is then left alone for the pause.
@Suite struct DeviceReaderTests {
    static let directory = "/tmp/device-reader-tests-\(getpid())"

    /// A listening UAPI socket (non-blocking, so a missing connection shows as EAGAIN) and a reader on it.
    private func reader() throws -> (DeviceReader, FakeHost, listener: Int32, socketPath: String) {
        let device = UserspaceWireGuard(interfaceName: "wgd\(UInt16.random(in: 0...9999))", socketDirectory: Self.directory)
        let listener = try device.listen()
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        let host = FakeHost()
        return (DeviceReader(backend: device, userspace: device, host: host), host, listener, device.socketPath)
    }

    @Test func readsInFlightShareOneQueryAndItsAnswer() throws {
        let (reader, host, listener, path) = try reader()
        defer { close(listener); unlink(path) }
        var outcomes: [DeviceReader.Outcome] = []
        reader.read { outcomes.append($0) }
        reader.read { outcomes.append($0) }
        let connection = accept(listener, nil, nil)
        #expect(connection >= 0)
        defer { close(connection) }
        #expect(accept(listener, nil, nil) == -1)  // one connection for both
        #expect(outcomes.isEmpty && host.watched.count == 1)
        var request = [UInt8](repeating: 0, count: 64)
        _ = read(connection, &request, request.count)
        let answer = "listen_port=51820\nerrno=0\n\n"
        #expect(write(connection, answer, answer.utf8.count) == answer.utf8.count)
        host.watched.values.first?()
        #expect(outcomes.count == 2 && outcomes.allSatisfy { (try? $0.get().listenPort) == 51820 })
        #expect(host.watched.isEmpty)
        host.runTimers()  // the finished query's timer does nothing
        #expect(outcomes.count == 2)
    }

    @Test func anUnansweredReadFailsAtItsTimerAndTheNextOnesFailAtOnce() throws {
        let (reader, host, listener, path) = try reader()
        defer { close(listener); unlink(path) }
        var outcomes: [DeviceReader.Outcome] = []
        reader.read { outcomes.append($0) }
        reader.read { outcomes.append($0) }
        #expect(outcomes.isEmpty)
        host.runTimers()  // one second later, no answer (a stopped wireguard-go)
        let timedOut = SystemCallError("read", path, errno: ETIMEDOUT,
                                       detail: "wireguard-go did not answer within 1s; not asked again for 10s")
        #expect(outcomes.count == 2 && outcomes.allSatisfy { if case .failure(timedOut) = $0 { true } else { false } })
        #expect(host.watched.isEmpty)
        // Within the pause: the same error at once, and wireguard-go is not asked.
        reader.read { outcomes.append($0) }
        #expect(outcomes.count == 3)
        if case .failure(let error) = outcomes[2] { #expect(error == timedOut) } else { Issue.record("read succeeded") }
        #expect(accept(listener, nil, nil) >= 0)  // the first query's connection, in the backlog
        #expect(accept(listener, nil, nil) == -1)  // and no other
    }

    @Test func aMissingSocketFailsAtOnceWithoutAPause() throws {
        let device = UserspaceWireGuard(interfaceName: "wgm", socketDirectory: "/nonexistent-dir")
        let host = FakeHost()
        let reader = DeviceReader(backend: device, userspace: device, host: host)
        var outcomes: [DeviceReader.Outcome] = []
        reader.read { outcomes.append($0) }
        reader.read { outcomes.append($0) }
        let missing = SystemCallError("connect", "/nonexistent-dir/wgm.sock", errno: ENOENT)
        #expect(outcomes.count == 2 && outcomes.allSatisfy { if case .failure(missing) = $0 { true } else { false } })
        #expect(host.watched.isEmpty)
    }
}
