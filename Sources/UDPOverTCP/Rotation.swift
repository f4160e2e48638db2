import NIOCore

/// udp2tcp's `--tcp-connection-lifetime`: replace the connection before it reaches this age,
/// make-before-break (the dstack gateway cuts every connection after 5 hours).
public struct RotationPolicy: Equatable, Sendable {
    /// The age a connection should not reach; positive.
    public var lifetime: TimeAmount
    /// Once the next connection delivered a datagram (the far side answers through it), the
    /// old one is kept this long for what is still on its way to it.
    public var drain: TimeAmount
    /// The old connection is closed this long after the switch even when the next one has
    /// delivered nothing yet (an idle tunnel, whose far side still sends to the old one).
    public var maximumDrain: TimeAmount
    /// The next connection is opened this long before the lifetime, at most.
    public var maximumLead: TimeAmount

    /// Drains 5 s after the next connection's first datagram, 10 minutes at most (the
    /// gateway's idle cut), and opens the next connection up to a minute before the lifetime.
    public init(
        lifetime: TimeAmount, drain: TimeAmount = .seconds(5), maximumDrain: TimeAmount = .minutes(10),
        maximumLead: TimeAmount = .seconds(60)
    ) {
        self.lifetime = lifetime
        self.drain = drain
        self.maximumDrain = maximumDrain
        self.maximumLead = maximumLead
    }

    /// How long after a connection is established the next one is opened: a tenth of the
    /// lifetime before it, at most ``maximumLead`` before it. What is left of the lead is time
    /// for the handshakes and, when they fail, retries.
    public var openNextAfter: TimeAmount {
        lifetime - min(.nanoseconds(lifetime.nanoseconds / 10), maximumLead)
    }

    /// How long a replaced connection is kept after the next one delivered its first datagram:
    /// ``drain``, within ``drainLimit``.
    public var drainTime: TimeAmount {
        min(drain, drainLimit)
    }

    /// How long a replaced connection is kept at most: ``maximumDrain``, at most half the
    /// lifetime, so at most one connection drains at a time.
    public var drainLimit: TimeAmount {
        min(maximumDrain, .nanoseconds(lifetime.nanoseconds / 2))
    }
}

/// When udp2tcp replaces its connection, as a pure state machine beside the
/// ``ReconnectStateMachine``: events go in, the action to take comes out.
///
/// Once a connection is established, a timer opens the next one at
/// ``RotationPolicy/openNextAfter``; once that one is established too, sending moves to it and
/// the old one drains. A next connection that fails is retried with the reconnect backoff for as
/// long as the current one lives. Timers carry a generation: one armed for an earlier
/// connection or attempt is ignored when it fires.
public struct RotationStateMachine: Sendable {
    public enum State: Equatable, Sendable {
        /// No connection to replace.
        case inactive
        /// The current connection (established at that time) waits for the timer.
        case waiting(since: NIODeadline)
        /// The next connection is being opened.
        case opening(since: NIODeadline)
        /// The next connection failed; the timer retries.
        case backingOff(since: NIODeadline)
    }

    /// A timer to arm: when it fires, call ``timerFired(generation:)`` with this generation.
    public struct Timer: Equatable, Sendable {
        public var delay: TimeAmount
        public var generation: Int
    }

    public enum Action: Equatable, Sendable {
        /// Nothing to do.
        case none
        /// Arm the timer.
        case arm(Timer)
        /// Open the next connection now (same target and TLS settings).
        case openNext
        /// Send on the next connection from now on; keep delivering from the old one, which
        /// was `age` old, as the policy says (``RotationPolicy/drainTime``,
        /// ``RotationPolicy/drainLimit``), then close it; arm the timer for the new one.
        case switchOver(age: TimeAmount, next: Timer)
    }

    public let policy: RotationPolicy
    public let retryPolicy: ReconnectPolicy
    public private(set) var state: State = .inactive
    /// Failed attempts to open the next connection since the last rotation.
    public private(set) var failures = 0
    /// Rotations done.
    public private(set) var rotations = 0
    private var generation = 0

    /// - Parameter retryPolicy: the backoff after a next connection fails (only its delays).
    public init(policy: RotationPolicy, retryPolicy: ReconnectPolicy = .standard) {
        self.policy = policy
        self.retryPolicy = retryPolicy
    }

    /// A connection was established while none was up (the first, or after a reconnect).
    public mutating func connectionEstablished(at now: NIODeadline) -> Action {
        guard case .inactive = state else { return .none }
        failures = 0
        state = .waiting(since: now)
        return .arm(nextTimer(after: policy.openNextAfter))
    }

    /// A timer fired.
    public mutating func timerFired(generation fired: Int) -> Action {
        guard fired == generation else { return .none }
        switch state {
        case .waiting(let since), .backingOff(let since):
            state = .opening(since: since)
            return .openNext
        case .inactive, .opening:
            return .none
        }
    }

    /// The next connection is established.
    public mutating func nextEstablished(at now: NIODeadline) -> Action {
        guard case .opening(let since) = state else { return .none }
        failures = 0
        rotations += 1
        state = .waiting(since: now)
        return .switchOver(age: now - since, next: nextTimer(after: policy.openNextAfter))
    }

    /// The next connection failed (connect, handshake, or closed before it was established).
    public mutating func nextFailed<Random: RandomNumberGenerator>(using random: inout Random) -> Action {
        guard case .opening(let since) = state else { return .none }
        failures += 1
        state = .backingOff(since: since)
        return .arm(nextTimer(after: retryPolicy.delay(failures: failures, using: &random)))
    }

    /// The current connection is gone. Returns whether the next connection is being opened:
    /// that attempt then becomes the reconnection (it is no longer a rotation).
    public mutating func connectionLost() -> Bool {
        let opening: Bool
        if case .opening = state { opening = true } else { opening = false }
        state = .inactive
        generation += 1
        return opening
    }

    private mutating func nextTimer(after delay: TimeAmount) -> Timer {
        generation += 1
        return Timer(delay: delay, generation: generation)
    }
}
