/// One `fleetsim model` run: per-second counts at the broker and what they add up to.
public struct FleetRun: Sendable, Codable {
    public var scenario: FleetScenario
    /// Per second from the broker going away (index 0 = [0, 1) s).
    public var attempts: [Int] = []
    /// Attempts refused while the broker was away, throttled over the connect limit, accepted.
    public var refused: [Int] = []
    public var throttled: [Int] = []
    public var connects: [Int] = []
    public var publishes: [Int] = []
    /// Every tracker connected again / every backlog sent, in seconds from the broker going away
    /// (-1: not within the run's limit).
    public var allConnectedSeconds = 0.0
    public var allDrainedSeconds = 0.0
    /// The busiest second of connect requests once the broker is back, and when it was.
    public var peakAttempts = 0
    public var peakAttemptsSecond = 0
    /// The first wave: until every tracker has tried once since the broker came back (each has
    /// heard its answer, throttled or not).
    public var firstWaveEndsSecond = 0
    public var peakAttemptsAfterFirstWave = 0
    public var secondsAboveLimitAfterFirstWave = 0
    /// Seconds in which a connection published more than the broker's per-connection limit.
    public var publishLimitBreaches = 0
    public var totalAttempts = 0
    public var totalPublishes = 0
    /// Messages in the trackers' queues when they connected again (everything their planners
    /// produced while offline), the most one tracker had, and every message acknowledged in the
    /// drains (those plus what was produced while draining).
    public var messagesQueuedAtConnect = 0
    public var mostQueuedAtConnect = 0
    public var messagesDelivered = 0
    /// The model's own run time, for the record (not a result).
    public var wallSeconds = 0.0
}
