import NIOCore

/// How udp2tcp retries its TCP connection: at once after losing an established connection,
/// then exponential backoff with jitter, reset after a connection that stayed up for a while.
public struct ReconnectPolicy: Equatable, Sendable {
    /// The nominal wait after the first failure.
    public var initialDelay: TimeAmount
    /// No wait is longer than this.
    public var maximumDelay: TimeAmount
    /// Each consecutive failure multiplies the nominal wait by this.
    public var multiplier: Int
    /// Up to this fraction of a wait is randomly taken off, so many clients do not retry in step.
    public var jitter: Double
    /// A connection that stayed up this long was healthy: the next failure starts over.
    public var healthyAfter: TimeAmount

    /// 100 ms doubling to 5 s, up to 20 % jitter, reset after 10 s up.
    public static let standard = ReconnectPolicy(
        initialDelay: .milliseconds(100), maximumDelay: .seconds(5), multiplier: 2, jitter: 0.2, healthyAfter: .seconds(10)
    )

    public init(initialDelay: TimeAmount, maximumDelay: TimeAmount, multiplier: Int, jitter: Double, healthyAfter: TimeAmount) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.healthyAfter = healthyAfter
    }

    /// The wait before retrying after `failures` consecutive failures (1 or more), before jitter.
    public func nominalDelay(failures: Int) -> TimeAmount {
        var delay = initialDelay.nanoseconds
        for _ in 1..<max(failures, 1) {
            let (product, overflow) = delay.multipliedReportingOverflow(by: Int64(multiplier))
            delay = overflow ? maximumDelay.nanoseconds : product
            if delay >= maximumDelay.nanoseconds { break }
        }
        return .nanoseconds(min(delay, maximumDelay.nanoseconds))
    }

    /// The wait before retrying after `failures` consecutive failures, with jitter.
    public func delay<Random: RandomNumberGenerator>(failures: Int, using random: inout Random) -> TimeAmount {
        let delay = nominalDelay(failures: failures)
        guard jitter > 0 else { return delay }
        let fraction = Double.random(in: 0...jitter, using: &random)
        return .nanoseconds(delay.nanoseconds - Int64(Double(delay.nanoseconds) * fraction))
    }
}

/// The life of udp2tcp's TCP connection as a pure state machine: events go in, the action to
/// take comes out. It never touches a socket or a clock, so tests drive it directly.
public struct ReconnectStateMachine: Sendable {
    public enum State: Equatable, Sendable {
        /// Not started.
        case idle
        /// A connection attempt (TCP connect, then TLS handshake) is under way.
        case connecting
        /// The tunnel is up since that time.
        case connected(since: NIODeadline)
        /// Waiting for a retry timer.
        case waiting
        /// Shut down: every later event is ignored.
        case stopped
    }

    public enum Action: Equatable, Sendable {
        /// Start a connection attempt now.
        case connect
        /// Arm a timer; when it fires, call ``retryTimerFired()``.
        case retry(after: TimeAmount)
        /// Nothing to do.
        case none
    }

    public let policy: ReconnectPolicy
    public private(set) var state: State = .idle
    /// Consecutive failures since the last healthy connection.
    public private(set) var failures = 0
    /// Whether the immediate retry after losing an established connection was taken since the
    /// last healthy connection: a connection that keeps being cut soon after it is established
    /// (a gateway that accepts, then drops) backs off instead of spinning.
    public private(set) var immediateRetryTaken = false

    public init(policy: ReconnectPolicy = .standard) {
        self.policy = policy
    }

    /// Begins connecting.
    public mutating func start() -> Action {
        guard state == .idle else { return .none }
        state = .connecting
        return .connect
    }

    /// The attempt succeeded: TCP connected and, with TLS, the handshake completed.
    public mutating func connectionEstablished(at now: NIODeadline) -> Action {
        guard state == .connecting else { return .none }
        state = .connected(since: now)
        return .none
    }

    /// The attempt failed, or the established connection closed.
    ///
    /// Losing an established connection (the gateway's idle or age cut) retries at once, the
    /// first time since the last healthy connection; failed attempts after it back off.
    /// `attemptUnderWay`: a connection attempt already running (the next connection of a
    /// rotation) becomes the retry, so none is started.
    public mutating func connectionLost<Random: RandomNumberGenerator>(
        at now: NIODeadline, attemptUnderWay: Bool = false, using random: inout Random
    ) -> Action {
        switch state {
        case .connecting:
            break
        case .connected(let since):
            if now - since >= policy.healthyAfter {
                failures = 0
                immediateRetryTaken = false
            }
            if attemptUnderWay || !immediateRetryTaken {
                immediateRetryTaken = true
                state = .connecting
                return attemptUnderWay ? .none : .connect
            }
        case .idle, .waiting, .stopped:
            return .none
        }
        failures += 1
        state = .waiting
        return .retry(after: policy.delay(failures: failures, using: &random))
    }

    /// The retry timer fired.
    public mutating func retryTimerFired() -> Action {
        guard state == .waiting else { return .none }
        state = .connecting
        return .connect
    }

    /// Stops for good.
    public mutating func stop() {
        state = .stopped
    }
}
