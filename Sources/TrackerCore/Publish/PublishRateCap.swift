/// At most `rate` publishes per connection in any window of `window` (AWS IoT Core: 100 per
/// second): a token bucket of `rate` tokens in which a spent token comes back one window after
/// it was spent.
///
/// A bucket that refills continuously lets a full bucket go out at once and then the refill on
/// top: up to twice the rate in the first second after a reconnect, exactly when a backlog
/// drains. Here no burst exceeds the rate and no window of `window`, wherever it starts, holds
/// more than `rate` publishes. The default window is 1.05 s: the broker counts by its own
/// clock, and 50 ms of margin keep jitter between the tracker and the broker from putting 101
/// publishes into one of the broker's seconds (a drain runs at 95 publishes per second).
public struct PublishRateCap: Sendable {
    /// Publishes per window; 0 = no cap.
    public let rate: Int
    public let window: Duration
    /// When each of the last `rate` publishes went out, oldest first (a ring of `rate` slots).
    private var spent: [MonotonicInstant] = []
    private var oldest = 0

    public init(rate: Int, window: Duration = .milliseconds(1050)) {
        self.rate = max(0, rate)
        self.window = window
        spent.reserveCapacity(min(self.rate, 10_000))
    }

    public var isCapped: Bool { rate > 0 }

    /// Publishes allowed now: the free slots and the spent ones a window old (found by a binary
    /// search of the ring, which is in time order: the engine asks at every pump).
    public func available(now: MonotonicInstant) -> Int {
        guard isCapped else { return Int.max }
        var low = 0, high = spent.count
        while low < high {
            let mid = (low + high) / 2
            if now - spent[(oldest + mid) % spent.count] >= window { low = mid + 1 } else { high = mid }
        }
        return rate - spent.count + low
    }

    /// `count` publishes went out now (at most `available(now:)`).
    public mutating func spend(_ count: Int, now: MonotonicInstant) {
        guard isCapped else { return }
        for _ in 0..<count {
            if spent.count < rate {
                // The ring is not full yet: its oldest entry is at 0 and new ones append.
                spent.append(now)
            } else {
                spent[oldest] = now
                oldest = (oldest + 1) % rate
            }
        }
    }

    /// The last `count` publishes went out at `at`, later than when they were counted (the
    /// executable had other work first, a big store commit or thousands of journal lines): they
    /// count from then, or the next window would open early by that delay.
    public mutating func restamp(last count: Int, at: MonotonicInstant) {
        guard isCapped, !spent.isEmpty else { return }
        for k in 0..<min(count, spent.count) {
            let index = spent.count < rate ? spent.count - 1 - k : (oldest - 1 - k + 2 * rate) % rate
            if spent[index] < at { spent[index] = at }
        }
    }

    /// When the next token comes back, if none is free now; nil when one is (or there is no cap).
    public func nextToken(now: MonotonicInstant) -> MonotonicInstant? {
        guard isCapped, spent.count == rate else { return nil }
        let back = spent[oldest] + window
        return back > now ? back : nil
    }
}
