#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A point on the monotonic clock (`CLOCK_MONOTONIC`): never jumps with the wall clock.
/// Pure code takes instants as arguments, so tests make them up.
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since the clock's fixed origin (boot, for the system clock).
    public var sinceOrigin: Duration

    public init(sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    /// The current time (the corresponding C function is `clock_gettime`).
    public static func now() -> MonotonicInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MonotonicInstant(sinceOrigin: .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }

    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(sinceOrigin: lhs.sinceOrigin + rhs)
    }

    public static func - (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(sinceOrigin: lhs.sinceOrigin - rhs)
    }

    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration { lhs.sinceOrigin - rhs.sinceOrigin }

    public var description: String { DurationText.format(sinceOrigin) }
}

/// Short durations for logfmt values: `150ms`, `1.6s`, `10s`.
public enum DurationText {
    /// Milliseconds below one second, else seconds with at most one decimal.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let tenths = (milliseconds + 50) / 100
        return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(tenths % 10)s"
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down (negative durations give 0).
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
