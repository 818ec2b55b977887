#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A point on the daemon's monotonic clock: ContinuousClock's (CLOCK_BOOTTIME, which keeps
/// counting while the board is suspended), as every timer of the core holds it.
///
/// Not `ContinuousClock.Instant` itself: the standard library does not freeze that type's
/// layout, so every struct and enum that held one (the engine, its inputs and actions, the
/// queue's entries) was copied, switched on and made optional through runtime metadata and
/// value witnesses, a quarter of the instructions of the engine's step for a fix. This is a
/// `Duration` since boot, whose layout the compiler knows.
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let sinceBoot: Duration

    public init(sinceBoot: Duration) {
        self.sinceBoot = sinceBoot
    }

    /// The clock now (the same reading `ContinuousClock.now` makes).
    public static var now: MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return MonotonicInstant(sinceBoot: .seconds(Int64(time.tv_sec)) + .nanoseconds(Int64(time.tv_nsec)))
    }

    public var description: String { "\(sinceBoot) since boot" }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.sinceBoot < rhs.sinceBoot }

    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(sinceBoot: lhs.sinceBoot + rhs)
    }

    public static func - (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(sinceBoot: lhs.sinceBoot - rhs)
    }

    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration { lhs.sinceBoot - rhs.sinceBoot }

    public static func += (lhs: inout MonotonicInstant, rhs: Duration) { lhs = lhs + rhs }

    public func duration(to other: MonotonicInstant) -> Duration { other - self }
}
