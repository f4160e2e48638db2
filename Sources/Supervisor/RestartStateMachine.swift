/// The life of one supervised child as a pure state machine: it is told what happened (started,
/// exited, timer due, stop asked) and answers with what to do. No processes, no clock: instants
/// and randomness come in as arguments, so every path is tested without spawning anything.
public struct RestartStateMachine: Sendable {
    /// Where the child is.
    public enum State: Equatable, Sendable {
        /// Registered, never started.
        case idle
        /// Running since the instant.
        case running(since: MonotonicInstant)
        /// Exited; to be started again at the instant.
        case waiting(until: MonotonicInstant)
        /// Asked to stop while running; waiting for it to exit.
        case stopping
        /// Will not run again.
        case finished
    }

    /// What to do after the child exited.
    public enum ExitAction: Equatable, Sendable {
        /// Start it again after the delay; `restarts` counts restarts in this crash loop.
        case restart(after: Duration, restarts: Int)
        /// Leave it stopped.
        case finish
    }

    /// What to do when the child is asked to stop.
    public enum StopAction: Equatable, Sendable {
        /// It is running: signal it and wait for its exit.
        case terminate
        /// Nothing runs (a pending restart, if any, is cancelled).
        case none
    }

    public let policy: RestartPolicy
    public let backoff: Backoff
    public private(set) var state: State = .idle
    /// Restarts in the current crash loop (reset when the child ran `backoff.healthyAfter`).
    public private(set) var restarts = 0
    /// The last exit status, if it ever exited.
    public private(set) var lastStatus: TerminationStatus?

    public init(policy: RestartPolicy, backoff: Backoff = .standard) {
        self.policy = policy
        self.backoff = backoff
    }

    /// When the next start is due, while waiting to restart.
    public var nextStart: MonotonicInstant? {
        if case .waiting(let until) = state { return until }
        return nil
    }

    /// Whether a process is (or should be treated as) alive.
    public var isRunning: Bool {
        switch state {
        case .running, .stopping: true
        default: false
        }
    }

    /// The child's process was created at `now`.
    public mutating func started(at now: MonotonicInstant) {
        state = .running(since: now)
    }

    /// The child's process ended with `status` at `now`.
    public mutating func exited<Generator: RandomNumberGenerator>(
        _ status: TerminationStatus, at now: MonotonicInstant, using generator: inout Generator
    ) -> ExitAction {
        lastStatus = status
        switch state {
        case .running(let since):
            if now - since >= backoff.healthyAfter { restarts = 0 }
            guard policy.restarts(after: status) else {
                state = .finished
                return .finish
            }
            return scheduleRestart(at: now, using: &generator)
        case .stopping, .idle, .waiting, .finished:
            state = .finished
            return .finish
        }
    }

    /// Creating the process failed at `now` (no process exists): a failure like a crash.
    public mutating func startFailed<Generator: RandomNumberGenerator>(
        at now: MonotonicInstant, using generator: inout Generator
    ) -> ExitAction {
        guard policy != .never else {
            state = .finished
            return .finish
        }
        return scheduleRestart(at: now, using: &generator)
    }

    /// Whether the pending restart is due at `now`; when it is, the caller starts the process
    /// and reports it with `started(at:)`.
    public func restartIsDue(at now: MonotonicInstant) -> Bool {
        guard let due = nextStart else { return false }
        return due <= now
    }

    /// Shutdown asks the child to stop: a running child must be signalled; a pending restart is
    /// dropped.
    public mutating func stop() -> StopAction {
        switch state {
        case .running, .stopping:
            state = .stopping
            return .terminate
        case .idle, .waiting, .finished:
            state = .finished
            return .none
        }
    }

    private mutating func scheduleRestart<Generator: RandomNumberGenerator>(
        at now: MonotonicInstant, using generator: inout Generator
    ) -> ExitAction {
        restarts += 1
        let delay = backoff.delay(restart: restarts, using: &generator)
        state = .waiting(until: now + delay)
        return .restart(after: delay, restarts: restarts)
    }
}
