import TrackerCore

/// The same fleet with trackerd's full jitter and without, side by side: the ratio of their
/// busiest second once the broker is back is what jitter buys.
public struct FleetComparison: Sendable, Codable {
    public var jitter: FleetRun
    public var noJitter: FleetRun
    /// Peak connect requests per second after the broker is back, without jitter over with.
    public var peakRatio: Double
    /// Time until every tracker is connected, without jitter over with.
    public var reconnectTimeRatio: Double

    public init(jitter: FleetRun, noJitter: FleetRun) {
        self.jitter = jitter
        self.noJitter = noJitter
        peakRatio = Double(noJitter.peakAttempts) / Double(max(1, jitter.peakAttempts))
        reconnectTimeRatio = jitter.allConnectedSeconds > 0 && noJitter.allConnectedSeconds > 0
            ? noJitter.allConnectedSeconds / jitter.allConnectedSeconds : -1
    }

    public var summary: [String] {
        let s = jitter.scenario
        var lines = ["fleet: \(s.trackers) trackers, broker away \(JSONNumber.fixed(s.outageSeconds, 0)) s, then \(s.connectLimit) connects/s and \(s.publishLimit) publishes/s per connection; reconnect \(JSONNumber.fixed(s.reconnectMinSeconds, 1))-\(JSONNumber.fixed(s.reconnectMaxSeconds, 0)) s; \(JSONNumber.fixed(s.drivingShare * 100, 0)) % driving, reporting \(s.reportEveryFix ? "every fix (1 Hz)" : "adaptive (moving: every \(JSONNumber.fixed(s.reportIntervalSeconds, 0)) s and at turns)"), backlog batches of \(s.backlogBatch)"]
        for (name, run) in [("full jitter", jitter), ("no jitter", noJitter)] {
            lines.append("\(name): peak \(run.peakAttempts) connect requests/s at \(run.peakAttemptsSecond) s (limit \(s.connectLimit)); after the first wave (\(run.firstWaveEndsSecond) s) peak \(run.peakAttemptsAfterFirstWave), \(run.secondsAboveLimitAfterFirstWave) s above the limit; all connected at \(Self.time(run.allConnectedSeconds)), all drained at \(Self.time(run.allDrainedSeconds)); \(run.totalAttempts) attempts; \(run.messagesQueuedAtConnect) messages queued at the reconnects (at most \(run.mostQueuedAtConnect) on one tracker), \(run.messagesDelivered) delivered in \(run.totalPublishes) publishes (presence included), \(run.publishLimitBreaches) per-connection breaches (model ran \(JSONNumber.fixed(run.wallSeconds, 2)) s)")
        }
        lines.append("ratio: peak \(JSONNumber.fixed(peakRatio, 1))x lower with jitter" + (reconnectTimeRatio > 0
            ? "; every tracker connected \(JSONNumber.fixed(reconnectTimeRatio, 1))x sooner" : "; without jitter the fleet is not all connected within the run"))
        return lines
    }

    static func time(_ seconds: Double) -> String { seconds < 0 ? "not within the run" : JSONNumber.fixed(seconds, 1) + " s" }
}
