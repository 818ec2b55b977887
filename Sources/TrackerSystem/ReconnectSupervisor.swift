import TrackerCore

/// The one open → pump → backoff → reopen loop, run on an adapter's own thread by the gpsd
/// reader, the serial reader and the MQTT connection. The adapter supplies one attempt (open,
/// pump until it ends, close) and says what to report; `ReconnectPolicy` decides the delays.
public struct ReconnectSupervisor: Sendable {
    public let policy: ReconnectPolicy

    public init(policy: ReconnectPolicy) {
        self.policy = policy
    }

    /// Runs `attempt` until it returns nil (stopped, or a failure that no retry can mend) or
    /// `stop` is set; after each outcome, `report` hears the event and the delay before the
    /// next attempt.
    public func run(stop: StopFlag, attempt: () -> ReconnectPolicy.Outcome?,
                    report: (ReconnectPolicy.Event, Duration) -> Void) {
        var policy = self.policy
        while !stop.isSet {
            guard let outcome = attempt() else { return }
            let (event, delay) = policy.after(outcome, now: MonotonicInstant.now)
            report(event, delay)
            if !stop.sleep(delay) { return }
        }
    }
}
