/// Reconnect delays: exponential with full jitter, delay = random(0, min(cap, base·2^attempt)).
///
/// Full jitter spreads a fleet that lost its broker (or a receiver that lost its gpsd) over the
/// whole window instead of bunching retries at the same instants. The random source is
/// injected so the sequence can be tested exactly.
public struct Backoff: Sendable, Equatable {
    public let base: Duration
    public let cap: Duration
    public private(set) var attempt = 0

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(120)) {
        self.base = base
        self.cap = max(cap, base)
    }

    /// The upper bound of the next delay: min(cap, base·2^attempt).
    public var window: Duration {
        let exponent = min(attempt, 62)
        let scaled = base * Double(sign: .plus, exponent: exponent, significand: 1)
        return min(cap, scaled)
    }

    /// The next delay, drawn uniformly from [0, window), and one more attempt counted.
    /// One draw, scaled (not rejection-sampled), so an injected source fixes the delay exactly:
    /// a draw of 2^63 is half the window.
    public mutating func nextDelay(using random: inout some RandomNumberGenerator) -> Duration {
        let limit = window.nanoseconds
        attempt += 1
        let fraction = Double(random.next() >> 11) * 0x1p-53
        return .nanoseconds(Int64((Double(limit) * fraction).rounded(.down)))
    }

    public mutating func nextDelay() -> Duration {
        var random = SystemRandomNumberGenerator()
        return nextDelay(using: &random)
    }

    /// After a connection proved itself: start again from `base`.
    public mutating func reset() { attempt = 0 }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : product + attoseconds / 1_000_000_000
    }

    /// Seconds as a Double, for logs.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
