import CSupervisor
import SystemCalls
import VPNLog
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs and restarts child processes, reaps every process that ends, and shuts everything down
/// in order: one single-threaded loop polls a signalfd, the children's pidfds, timers and
/// descriptors other stages watch.
///
/// Use: create it (after `InitSignals.blockAllButFaults`), `start` children, `addTeardown` steps,
/// `startMain` the user's command, then `run()` until shutdown is done; it returns the exit code.
public final class Supervisor {
    /// Which exited processes the supervisor collects.
    public enum Reaping: Sendable {
        /// Every child of this process, orphans included (`waitpid(-1)`): for PID 1 or a subreaper.
        case allProcesses
        /// Only its own children (`waitpid(pid)`), for use inside a process that has other children.
        case supervisedOnly
    }

    /// How the supervisor behaves.
    public struct Configuration: Sendable {
        /// Time children get between SIGTERM and SIGKILL at shutdown (`VPN_SHUTDOWN_GRACE`).
        public var shutdownGrace: Duration
        public var reaping: Reaping
        public var backoff: Backoff

        public init(shutdownGrace: Duration = .seconds(8), reaping: Reaping = .allProcesses, backoff: Backoff = .standard) {
            self.shutdownGrace = shutdownGrace
            self.reaping = reaping
            self.backoff = backoff
        }
    }

    /// The state of a shutdown in progress.
    struct Shutdown {
        var exitCode: Int32
        /// When the grace period ends and everything left is killed.
        var deadline: MonotonicInstant
        /// The signal the main command is stopped with (the one vpn-init received).
        var mainSignal: Int32
        /// Set once everything was sent SIGKILL: the latest time to wait for the exits.
        var killDeadline: MonotonicInstant?
        var orphansSignalled = false
    }

    public var configuration: Configuration
    let signals: SignalReader?
    /// Whether this process is PID 1 of its PID namespace.
    let isProcessOne = getpid() == 1
    var children: [ChildRecord] = []
    var teardowns: [(name: String, body: () throws -> Void)] = []
    var watchers: [Int32: () -> Void] = [:]
    var signalHandlers: [Int32: () -> Void] = [:]
    var timers: [(due: MonotonicInstant, body: () -> Void)] = []
    var random = SystemRandomNumberGenerator()
    var shutdown: Shutdown?
    var exitCode: Int32?
    /// Whether the last `waitpid(-1)` saw children still running.
    var hasChildren = true

    /// A supervisor reading signals from `signals` (nil: none, shutdown only by `requestShutdown`
    /// or the main command's exit).
    public init(configuration: Configuration, signals: SignalReader?) {
        self.configuration = configuration
        self.signals = signals
    }

    // MARK: Registration

    /// Starts a supervised child now and keeps it running according to its restart policy.
    /// Children are stopped in the reverse order of their first start.
    public func start(_ spec: ChildSpec) {
        add(ChildRecord(spec: spec, isMain: false, backoff: configuration.backoff))
    }

    /// Starts the main command: standard input inherited, a terminal on it handed over, never
    /// restarted; its exit shuts the supervisor down with its status (128+N for signal N).
    public func startMain(arguments: [String], environment: [String: String]) {
        let spec = ChildSpec(
            name: "main", arguments: arguments, environment: environment, restart: .never, standardInput: .inherit)
        add(ChildRecord(spec: spec, isMain: true, backoff: configuration.backoff))
    }

    /// Adds a step run at shutdown once every child has stopped; steps run in reverse order of
    /// registration, and a step that throws is logged without stopping the others.
    public func addTeardown(_ name: String, _ body: @escaping () throws -> Void) {
        teardowns.append((name, body))
    }

    /// Calls `handler` on the loop whenever `fileDescriptor` is readable (or has an error).
    public func watch(fileDescriptor: Int32, _ handler: @escaping () -> Void) {
        watchers[fileDescriptor] = handler
    }

    /// Stops watching a descriptor.
    public func unwatch(fileDescriptor: Int32) {
        watchers[fileDescriptor] = nil
    }

    /// Calls `handler` on the loop whenever `signal` (one of `InitSignals.forwarded`, not SIGTERM
    /// or SIGINT) arrives, before it is forwarded to the main command as usual.
    public func onSignal(_ signal: Int32, _ handler: @escaping () -> Void) {
        signalHandlers[signal] = handler
    }

    /// Stops the child `name` for good (a helper whose peer is gone): a pending restart is
    /// dropped; a running child gets SIGTERM to its group, and SIGKILL if it is still there after
    /// the shutdown grace. Its record goes once it has exited, so the name can be used again.
    public func stop(_ name: String) {
        for child in children where child.spec.name == name && !child.isMain && !child.removed {
            child.removed = true
            switch child.machine.stop() {
            case .none:
                children.removeAll { $0 === child }
            case .terminate:
                Log.info("stopping child", ("name", name), ("pid", child.pid), ("signal", "SIGTERM"))
                child.terminated = true
                terminate(child, with: SIGTERM)
                schedule(after: configuration.shutdownGrace) { [weak self, child] in
                    guard child.pid != 0 else { return }
                    Log.warn("child still running after the grace period; killing it", ("name", name), ("pid", child.pid))
                    self?.signalGroup(of: child, SIGKILL)
                }
            }
        }
    }

    /// Calls `handler` once on the loop after `delay`.
    public func schedule(after delay: Duration, _ handler: @escaping () -> Void) {
        timers.append((MonotonicInstant.now() + delay, handler))
    }

    /// The process ID of the running child named `name`, if it runs.
    public func pid(of name: String) -> pid_t? {
        children.first { $0.spec.name == name && $0.pid != 0 }?.pid
    }

    /// How often each supervised child (not the main command) was started again, by name, in
    /// order of first start.
    public func restartCounts() -> [(child: String, restarts: Int)] {
        children.filter { !$0.isMain && !$0.removed }.map { ($0.spec.name, max(0, $0.starts - 1)) }
    }

    /// Starts a shutdown as SIGTERM does, ending with `exitCode`.
    public func requestShutdown(reason: String, exitCode: Int32 = 0) {
        beginShutdown(reason: reason, exitCode: exitCode, mainSignal: SIGTERM)
    }

    // MARK: The loop

    /// Runs until shutdown is complete; returns the exit code: the main command's status when it
    /// exited on its own, else the one given with the shutdown (0 for a signal).
    public func run() -> Int32 {
        while true {
            // Shutdown steps run here, at the top of the loop, never nested in reaping or in a
            // callback.
            if shutdown != nil { advanceShutdown() }
            if let exitCode { return exitCode }
            waitForEvents()
            runDueTimers(at: .now())
        }
    }

    private func add(_ child: ChildRecord) {
        guard shutdown == nil else {
            Log.warn("child not started: shutting down", ("name", child.spec.name))
            return
        }
        children.append(child)
        spawn(child)
    }

    func spawn(_ child: ChildRecord) {
        let program = child.spec.arguments.first ?? ""
        var descriptors: [Int32] = []
        if let open = child.spec.openDescriptors {
            do {
                descriptors = try open()
            } catch {
                Log.error("cannot start child", ("name", child.spec.name), ("path", program), ("error", error))
                logExit(child, status: nil, action: child.machine.startFailed(at: .now(), using: &random))
                return
            }
        }
        let outcome = Spawn.start(
            arguments: child.spec.arguments, environment: child.spec.environment,
            standardInput: child.spec.standardInput, foreground: child.isMain, descriptors: descriptors,
            privileges: child.spec.privileges)
        // The program has its own copies now (or never will).
        for descriptor in descriptors { _ = close(descriptor) }
        let now = MonotonicInstant.now()
        guard let pid = outcome.pid else {
            Log.error("cannot start child", ("name", child.spec.name), ("path", program), ("error", outcome.error))
            let action = child.machine.startFailed(at: now, using: &random)
            logExit(child, status: nil, action: action)
            if child.isMain && shutdown == nil {
                beginShutdown(reason: "main command failed to start", exitCode: 1, mainSignal: SIGTERM)
            }
            return
        }
        child.pid = pid
        child.pidDescriptor = vpn_pidfd_open(pid)
        child.starts += 1
        child.terminated = false
        child.machine.started(at: now)
        if let error = outcome.error {
            // The child exits at once with 127 or 126; its exit takes the usual path.
            Log.error("cannot run program", ("name", child.spec.name), ("path", program), ("error", error))
            return
        }
        Log.info("child started", ("name", child.spec.name), ("pid", pid))
        guard let afterStart = child.spec.afterStart else { return }
        do {
            try afterStart(StartedChild(name: child.spec.name, pid: pid, starts: child.starts))
        } catch {
            Log.error("after-start failed", ("name", child.spec.name), ("pid", pid), ("error", error))
            terminate(child, with: SIGTERM)
        }
    }

    /// Waits in `poll` for a signal, a child's exit, a watched descriptor or the next timer.
    private func waitForEvents() {
        var descriptors: [pollfd] = []
        if let signals { descriptors.append(pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
        for child in children where child.pidDescriptor >= 0 {
            descriptors.append(pollfd(fd: child.pidDescriptor, events: Int16(POLLIN), revents: 0))
        }
        for descriptor in watchers.keys {
            descriptors.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
        }
        let ready = poll(&descriptors, nfds_t(descriptors.count), pollTimeout(now: .now()))
        if ready < 0 {
            let code = currentErrno()
            if code != EINTR { Log.error("poll failed", ("error", SystemCallError("poll", errno: code))) }
            return
        }
        var reapNeeded = false
        for entry in descriptors where entry.revents != 0 {
            if entry.fd == signals?.fileDescriptor {
                if handleSignals() { reapNeeded = true }
            } else if let handler = watchers[entry.fd] {
                handler()
            } else {
                reapNeeded = true
            }
        }
        if reapNeeded { reap() }
    }

    /// Milliseconds until the earliest timer, restart or shutdown deadline (-1: none), rounded up
    /// so the loop never wakes before it is due.
    private func pollTimeout(now: MonotonicInstant) -> Int32 {
        var due: [MonotonicInstant] = timers.map(\.due) + children.compactMap(\.machine.nextStart)
        if let shutdown { due.append(shutdown.killDeadline ?? shutdown.deadline) }
        // Without pidfds nor SIGCHLD, exits are only noticed by looking.
        let blind = signals == nil && children.contains { $0.pid != 0 && $0.pidDescriptor < 0 }
        if blind { due.append(now + .milliseconds(50)) }
        guard let earliest = due.min() else { return -1 }
        let wait = earliest - now
        if wait <= .zero { return 0 }
        let (seconds, attoseconds) = wait.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    private func runDueTimers(at now: MonotonicInstant) {
        for child in children where child.machine.restartIsDue(at: now) {
            spawn(child)
        }
        let due = timers.filter { $0.due <= now }
        timers.removeAll { $0.due <= now }
        for timer in due { timer.body() }
        guard let current = shutdown else { return }
        if let killDeadline = current.killDeadline {
            if now >= killDeadline {
                Log.warn("processes still running after SIGKILL", ("left", children.filter { $0.pid != 0 }.count))
                finish()
            }
        } else if now >= current.deadline {
            killEverything(reason: "grace period over")
        }
    }

    /// Handles every pending signal; returns whether a child may have exited.
    private func handleSignals() -> Bool {
        var childExited = false
        for received in signals?.drain() ?? [] {
            let name = SignalName.of(received.signal)
            switch received.signal {
            case SIGCHLD:
                childExited = true
            case SIGTERM, SIGINT:
                if shutdown == nil {
                    beginShutdown(reason: name, exitCode: 0, mainSignal: received.signal)
                } else if shutdown?.killDeadline == nil {
                    Log.warn("signal during shutdown", ("signal", name))
                    killEverything(reason: name + " during shutdown")
                }
            case _ where InitSignals.forwarded.contains(received.signal):
                signalHandlers[received.signal]?()
                if let main = children.first(where: { $0.isMain && $0.pid != 0 }) {
                    Log.debug("signal forwarded", ("signal", name), ("pid", main.pid))
                    signalGroup(of: main, received.signal)
                } else {
                    Log.debug("signal ignored", ("signal", name))
                }
            default:
                Log.debug("signal ignored", ("signal", name), ("sender", received.senderPID))
            }
        }
        return childExited
    }

    // MARK: Reaping

    /// Collects every exited child without blocking and routes each status to its owner.
    func reap() {
        let now = MonotonicInstant.now()
        switch configuration.reaping {
        case .allProcesses:
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, WNOHANG)
                if pid > 0 {
                    route(pid: pid, waitStatus: status, at: now)
                    continue
                }
                if pid < 0 && currentErrno() == EINTR { continue }
                hasChildren = pid == 0
                return
            }
        case .supervisedOnly:
            for child in children where child.pid != 0 {
                var status: Int32 = 0
                if waitpid(child.pid, &status, WNOHANG) == child.pid {
                    route(pid: child.pid, waitStatus: status, at: now)
                }
            }
            hasChildren = children.contains { $0.pid != 0 }
        }
    }

    private func route(pid: pid_t, waitStatus: Int32, at now: MonotonicInstant) {
        guard let status = TerminationStatus(waitStatus: waitStatus) else { return }
        guard let child = children.first(where: { $0.pid == pid }) else {
            Log.debug("orphan reaped", ("pid", pid), ("status", status))
            return
        }
        child.pid = 0
        if child.pidDescriptor >= 0 {
            _ = close(child.pidDescriptor)
            child.pidDescriptor = -1
        }
        let action = child.machine.exited(status, at: now, using: &random)
        logExit(child, status: status, action: action, pid: pid)
        if child.removed { children.removeAll { $0 === child } }
        if child.isMain && shutdown == nil {
            beginShutdown(reason: "main command exited", exitCode: status.shellCode, mainSignal: SIGTERM)
        }
    }

    private func logExit(_ child: ChildRecord, status: TerminationStatus?, action: RestartStateMachine.ExitAction, pid: pid_t? = nil) {
        let name = ("name", child.spec.name as Any?)
        switch action {
        case .restart(let delay, let restarts):
            Log.warn("child exited", name, ("pid", pid), ("status", status), ("restarts", restarts),
                     ("next_in", DurationText.format(delay)))
        case .finish:
            let stopped = shutdown != nil || child.removed
            let level: LogLevel = status?.isSuccess == true || stopped ? .info : .warn
            Log.emit(level, stopped ? "child stopped" : "child exited", [name, ("pid", pid), ("status", status)])
        }
    }

    /// Asks the child's group to stop with `signal`, then sends SIGCONT: a stopped process
    /// (SIGSTOP, a debugger) acts on the signal only once it runs again, as systemd does it.
    func terminate(_ child: ChildRecord, with signal: Int32) {
        signalGroup(of: child, signal)
        if signal != SIGKILL && signal != SIGCONT { signalGroup(of: child, SIGCONT) }
    }

    /// Sends `signal` to the child's process group, or to the child alone when it left its group.
    func signalGroup(of child: ChildRecord, _ signal: Int32) {
        guard child.pid > 0 else { return }
        if kill(-child.pid, signal) != 0 && currentErrno() == ESRCH {
            _ = kill(child.pid, signal)
        }
    }
}
