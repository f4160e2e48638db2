import SystemCalls
import VPNLog
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Shutdown: children stop one at a time in reverse start order (SIGTERM to each process group,
// the main command getting the signal vpn-init received, each followed by SIGCONT for a stopped
// process), then orphans left in the container (SIGTERM and SIGCONT);
// when the grace period ends, or a SIGTERM/SIGINT comes while shutting down (a second one, or
// the first after the main command exited), everything left gets SIGKILL. Then the teardown
// steps run in reverse order and the loop ends.
extension Supervisor {
    /// The longest wait for processes to disappear after SIGKILL (one stuck in the kernel).
    static let killWait: Duration = .seconds(2)

    func beginShutdown(reason: String, exitCode: Int32, mainSignal: Int32) {
        guard shutdown == nil, self.exitCode == nil else { return }
        let now = MonotonicInstant.now()
        shutdown = Shutdown(exitCode: exitCode, deadline: now + configuration.shutdownGrace, mainSignal: mainSignal)
        Log.info("shutting down", ("reason", reason), ("grace", DurationText.format(configuration.shutdownGrace)))
        for child in children {
            // Pending restarts are dropped; running children are signalled in turn below.
            _ = child.machine.stop()
        }
    }

    /// Takes the next shutdown step that is possible now; the loop calls it on every turn.
    func advanceShutdown() {
        guard let current = shutdown, exitCode == nil else { return }
        reap()
        if current.killDeadline == nil {
            // Reverse start order, one at a time: the next waits for this one's exit.
            if let child = children.last(where: { $0.pid != 0 }) {
                if !child.terminated {
                    child.terminated = true
                    let signal = child.isMain ? current.mainSignal : SIGTERM
                    Log.info("stopping child", ("name", child.spec.name), ("pid", child.pid), ("signal", SignalName.of(signal)))
                    terminate(child, with: signal)
                }
                return
            }
        } else if children.contains(where: { $0.pid != 0 }) {
            return
        }
        if configuration.reaping == .allProcesses {
            if !current.orphansSignalled {
                shutdown?.orphansSignalled = true
                signalOrphans(SIGTERM)
                signalOrphans(SIGCONT)
                reap()
            }
            if hasChildren { return }
        }
        finish()
    }

    /// Sends SIGKILL to every child's group and every orphan, then waits (bounded) for the exits.
    func killEverything(reason: String) {
        guard shutdown != nil, shutdown?.killDeadline == nil else { return }
        shutdown?.killDeadline = .now() + Self.killWait
        for child in children where child.pid != 0 {
            Log.warn("killing child", ("name", child.spec.name), ("pid", child.pid), ("reason", reason))
            signalGroup(of: child, SIGKILL)
        }
        if configuration.reaping == .allProcesses { signalOrphans(SIGKILL) }
    }

    /// Runs the teardown steps in reverse order and ends the loop.
    func finish() {
        guard let current = shutdown, exitCode == nil else { return }
        for (name, body) in teardowns.reversed() {
            do {
                try body()
                Log.debug("teardown done", ("step", name))
            } catch {
                Log.error("teardown failed", ("step", name), ("error", error))
            }
        }
        for child in children where child.pidDescriptor >= 0 {
            _ = close(child.pidDescriptor)
            child.pidDescriptor = -1
        }
        if configuration.reaping == .allProcesses { reap() }
        Log.info("stopped", ("exit_code", current.exitCode))
        exitCode = current.exitCode
    }

    /// Signals processes that are not supervised children but were left to us: as PID 1, every
    /// process in the PID namespace (`kill(-1)` spares PID 1 itself); as a subreaper, our own
    /// children, found in /proc.
    func signalOrphans(_ signal: Int32) {
        if isProcessOne {
            if kill(-1, signal) == 0 { Log.debug("orphans signalled", ("signal", SignalName.of(signal))) }
            return
        }
        let supervised = Set(children.map(\.pid).filter { $0 != 0 })
        for pid in ProcessTable.children(of: getpid()) where !supervised.contains(pid) {
            Log.debug("orphan signalled", ("pid", pid), ("signal", SignalName.of(signal)))
            _ = kill(pid, signal)
        }
    }
}

/// Processes as /proc lists them (proc(5)).
public enum ProcessTable {
    /// The IDs of the processes whose parent is `parent` (field 4 of /proc/PID/stat).
    public static func children(of parent: pid_t) -> [pid_t] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard let pid = pid_t(name), let bytes = try? Files.read("/proc/\(name)/stat", limit: 4096) else { continue }
            if parentID(statLine: String(decoding: bytes, as: UTF8.self)) == parent { found.append(pid) }
        }
        return found
    }

    /// The parent ID in a /proc/PID/stat line, `PID (COMM) STATE PPID ...`; COMM may hold spaces
    /// and parentheses, so fields are counted after the last `)`.
    public static func parentID(statLine: String) -> pid_t? {
        guard let close = statLine.lastIndex(of: ")") else { return nil }
        let fields = statLine[statLine.index(after: close)...].split(separator: " ")
        return fields.count >= 2 ? pid_t(fields[1]) : nil
    }
}
