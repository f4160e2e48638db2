import Supervisor
import SystemCalls
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `Supervisor.stop` (a helper whose peer is gone) with real processes, and `DirectoryWatch`
/// (how a peers file written by another container is noticed) with a real directory.
@Suite struct StopAndWatchTests {
    let temporary = TemporaryDirectory(prefix: "stop-and-watch")

    /// A stopped child gets SIGTERM, is not restarted, and its name can be started again; the
    /// other children run on.
    @Test func aStoppedChildIsNotRestartedAndItsNameIsFree() {
        let supervisor = Supervisor(configuration: .init(shutdownGrace: .seconds(5), reaping: .supervisedOnly), signals: nil)
        supervisor.schedule(after: .seconds(60)) { supervisor.requestShutdown(reason: "test timeout", exitCode: 99) }
        let environment = ["PATH": "/usr/bin:/bin", "DIR": temporary.path]
        func spec(_ name: String) -> ChildSpec {
            let script = "trap 'echo \(name) >> \"$DIR/stopped\"; exit 0' TERM; while :; do sleep 0.05; done"
            return ChildSpec(name: name, arguments: ["/bin/sh", "-c", script], environment: environment, restart: .always)
        }
        var firstPID: pid_t?
        var secondPID: pid_t?
        supervisor.start(spec("helper"))
        supervisor.start(spec("other"))
        supervisor.schedule(after: .milliseconds(200)) {
            firstPID = supervisor.pid(of: "helper")
            supervisor.stop("helper")
            supervisor.schedule(after: .milliseconds(700)) {
                // Gone for good: no restart within well over the first backoff delay.
                #expect(supervisor.pid(of: "helper") == nil)
                supervisor.start(spec("helper"))
                secondPID = supervisor.pid(of: "helper")
                supervisor.requestShutdown(reason: "done")
            }
        }
        #expect(supervisor.run() == 0)
        #expect(firstPID != nil && secondPID != nil && firstPID != secondPID)
        let stopped = (try? Files.read("\(temporary.path)/stopped")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(stopped.split(separator: "\n").first == "helper", "the stopped one first, by SIGTERM: \(stopped)")
    }

    /// An atomic rename into the directory, a write, and a deletion are each reported by name; a
    /// file still being written is not.
    @Test func theDirectoryWatchSeesRenamesWritesAndDeletions() throws {
        let watch = try DirectoryWatch(directory: temporary.path)
        #expect(watch.drain().isEmpty)
        try Files.writeAtomically("\(temporary.path)/peers", Array("a\n".utf8), mode: 0o644)
        #expect(watch.drain().contains("peers"))
        let fd = open("\(temporary.path)/peers", O_WRONLY | O_TRUNC)
        #expect(fd >= 0)
        _ = write(fd, "b\n", 2)
        close(fd)
        #expect(watch.drain() == ["peers"])
        unlink("\(temporary.path)/peers")
        #expect(watch.drain() == ["peers"])
        // A file being created and written is reported once it is closed, not before.
        let writer = open("\(temporary.path)/peers", O_WRONLY | O_CREAT, 0o644)
        _ = write(writer, "half\n", 5)
        #expect(watch.drain().isEmpty, "created and half written: no event yet")
        close(writer)
        #expect(watch.drain() == ["peers"])
        #expect(throws: SystemCallError.self) { try DirectoryWatch(directory: "\(temporary.path)/missing") }
    }
}
