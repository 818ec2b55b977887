/// When to try again after a connection (gpsd, a serial receiver, the MQTT broker) could not
/// be opened or was lost, and what to tell the operator: the decisions of the one reconnect
/// loop that every adapter runs (`ReconnectSupervisor`).
///
/// Delays are full-jitter `Backoff`. The backoff starts again from its base once a session has
/// proved itself: it was established (data came, the broker accepted) and lasted `stableAfter`
/// — so a broker that accepts and drops at once (a second client with the same id) is not
/// hammered. The first failure of an outage is `unavailable` (worth a warning); the ones after
/// it are `stillUnavailable` (worth a debug line at most).
public struct ReconnectPolicy: Sendable {
    /// How one attempt ended.
    public enum Outcome: Sendable, Equatable {
        /// No session came about.
        case couldNotOpen(reason: String)
        /// A session ended; `establishedAt` is when it proved to work (nil if it never did).
        case ended(reason: String, establishedAt: MonotonicInstant?)
    }

    public enum Event: Sendable, Equatable {
        /// The first failure to open since start or since the last lost session.
        case unavailable(reason: String)
        case stillUnavailable(reason: String)
        case lost(reason: String, established: Bool)
    }

    public private(set) var backoff: Backoff
    public let stableAfter: Duration
    /// The operator has been told the connection is down.
    private var told = false

    public init(backoff: Backoff, stableAfter: Duration = .zero) {
        self.backoff = backoff
        self.stableAfter = stableAfter
    }

    /// What to report about `outcome`, and how long to wait before the next attempt.
    public mutating func after(_ outcome: Outcome, now: MonotonicInstant,
                               using random: inout some RandomNumberGenerator) -> (event: Event, delay: Duration) {
        let event: Event
        switch outcome {
        case .couldNotOpen(let reason):
            event = told ? .stillUnavailable(reason: reason) : .unavailable(reason: reason)
        case .ended(let reason, let establishedAt):
            if let establishedAt, now - establishedAt >= stableAfter { backoff.reset() }
            event = .lost(reason: reason, established: establishedAt != nil)
        }
        told = true
        return (event, backoff.nextDelay(using: &random))
    }

    public mutating func after(_ outcome: Outcome, now: MonotonicInstant) -> (event: Event, delay: Duration) {
        var random = SystemRandomNumberGenerator()
        return after(outcome, now: now, using: &random)
    }
}
