/// When a supervised child is started again after it exits.
public enum RestartPolicy: String, Sendable, CaseIterable {
    /// After every exit, successful or not.
    case always
    /// After an exit with a non-zero code or by a signal.
    case onFailure = "on-failure"
    /// Never: the child runs once.
    case never

    /// Whether a child that ended with `status` is started again.
    public func restarts(after status: TerminationStatus) -> Bool {
        switch self {
        case .always: true
        case .onFailure: !status.isSuccess
        case .never: false
        }
    }
}

/// Exponential backoff between restarts: the first restart waits `initialDelay`, each further
/// one in the same crash loop twice as long, up to `maximumDelay`; a child that ran for
/// `healthyAfter` starts a new loop. `jitter` is the fraction of each delay that may be taken off
/// at random, so children that failed together do not restart in lockstep.
public struct Backoff: Sendable, Equatable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var healthyAfter: Duration
    /// In `0..<1`; below 0.5 delays keep growing until the cap, whatever the random draws.
    public var jitter: Double

    public init(initialDelay: Duration, maximumDelay: Duration, healthyAfter: Duration, jitter: Double) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.healthyAfter = healthyAfter
        self.jitter = jitter
    }

    /// 100 ms doubling to 10 s, a new loop after 30 s of health, up to 25 % jitter.
    public static let standard = Backoff(
        initialDelay: .milliseconds(100), maximumDelay: .seconds(10), healthyAfter: .seconds(30), jitter: 0.25)

    /// The delay before restart number `restart` (1 = first) of a crash loop, before jitter:
    /// `initialDelay * 2^(restart-1)`, at most `maximumDelay`.
    public func baseDelay(restart: Int) -> Duration {
        var delay = initialDelay
        var doublings = max(0, restart - 1)
        while doublings > 0 && delay < maximumDelay {
            delay *= 2
            doublings -= 1
        }
        return min(delay, maximumDelay)
    }

    /// The base delay with the fraction `jitter * unitRandom` taken off (`unitRandom` in `0..<1`).
    public func delay(restart: Int, unitRandom: Double) -> Duration {
        let base = baseDelay(restart: restart)
        let kept = 1 - jitter * min(max(unitRandom, 0), 1)
        return .nanoseconds(Int64((base.seconds * 1e9 * kept).rounded()))
    }

    /// The jittered delay before restart number `restart`, drawing from `generator`.
    public func delay<Generator: RandomNumberGenerator>(restart: Int, using generator: inout Generator) -> Duration {
        delay(restart: restart, unitRandom: Double.random(in: 0..<1, using: &generator))
    }
}
