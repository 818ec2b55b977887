/// Decides when the position is lost and when it is back, and keeps an old fix from passing as new.
///
/// A fix is current until `staleAfter` passes without a newer one, whether the receiver
/// reports no-fix cycles (a tunnel) or says nothing at all (an unplugged cable). Loss is
/// reported once; the next fix after it is "regained". A fix whose time is not later than the
/// last accepted one (gpsd repeats the last TPV's time after a loss) is dropped.
public struct FixLossDetector: Sendable {
    public enum Event: Equatable, Sendable {
        /// The fix to use; `first` for the first one since start.
        case fix(Fix, first: Bool, regained: Bool)
        /// The position has not been refreshed for `staleAfter`.
        case lost(lastFix: Fix, receiverReportsNoFix: Bool)
        /// A fix with a time not after the last one: a repeat, not news.
        case repeated(Fix)
    }

    public let staleAfter: Duration
    public private(set) var lastFix: Fix?
    private var lastFixAt: MonotonicInstant?
    private var isLost = false
    private var sawNoFixSinceLastFix = false

    public init(staleAfter: Duration) {
        self.staleAfter = staleAfter
    }

    public var hasCurrentFix: Bool { lastFix != nil && !isLost }

    /// A cycle from the receiver, fix or not, received at `now`.
    public mutating func receive(_ fix: Fix, at now: MonotonicInstant) -> [Event] {
        // A cycle that arrives exactly `staleAfter` after the last fix is in time: it is the
        // refresh (at 1 Hz with stale_after_s = 1, no fix is a loss). Only a longer gap, or a
        // tick with nothing new, is one.
        var events = lastFixAt.map { now - $0 > staleAfter } ?? false ? tick(now) : []
        guard fix.hasPosition else {
            sawNoFixSinceLastFix = true
            return events
        }
        if let last = lastFix, let lastTime = last.time, let time = fix.time, time <= lastTime {
            events.append(.repeated(fix))
            return events
        }
        let first = lastFix == nil
        let regained = isLost
        lastFix = fix
        lastFixAt = now
        isLost = false
        sawNoFixSinceLastFix = false
        events.append(.fix(fix, first: first, regained: regained))
        return events
    }

    /// When the fix goes stale unless a newer one comes (nil: no fix, or already lost).
    public var staleAt: MonotonicInstant? {
        guard !isLost, let lastFixAt else { return nil }
        return lastFixAt + staleAfter
    }

    /// Time passes; reports a loss once when the fix has gone stale.
    public mutating func tick(_ now: MonotonicInstant) -> [Event] {
        guard let lastFix, let staleAt, now >= staleAt else { return [] }
        isLost = true
        return [.lost(lastFix: lastFix, receiverReportsNoFix: sawNoFixSinceLastFix)]
    }
}
