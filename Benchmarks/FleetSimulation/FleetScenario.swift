import TrackerCore

/// What `fleetsim model` simulates: a fleet of trackers connected to a broker that goes away
/// for `outage` and comes back with an account's limits (AWS IoT Core's connect requests per
/// second per account, publishes per second per connection), the trackers' reconnect and
/// drain settings as trackerd.toml has them, and how the fleet reports while it is offline.
public struct FleetScenario: Sendable, Codable, Equatable {
    public var trackers = 10_000
    /// The broker is away from t = 0 for this many seconds (a restart: connections end at once
    /// and attempts are refused until it is back).
    public var outageSeconds = 300.0
    /// Connect requests the broker accepts per second (AWS IoT Core: 500 in the large regions,
    /// 100 in the others; adjustable); the rest are throttled.
    public var connectLimit = 500
    /// Publishes per second per connection (AWS IoT Core: 100, not adjustable).
    public var publishLimit = 100
    /// trackerd's `[mqtt] max_publish_rate`.
    public var maxPublishRate = 100
    /// trackerd's `[mqtt] reconnect_min_s` and `reconnect_max_s`.
    public var reconnectMinSeconds = 1.0
    public var reconnectMaxSeconds = 120.0
    /// `[report] moving_interval_s`: a driving tracker publishes a fix at least this often (and
    /// at every turn); a parked one only its heartbeat (`stopped_interval_s`, 30 minutes).
    public var reportIntervalSeconds = 60.0
    /// `[report] policy = "every-fix"` instead of "adaptive": every fix of the 1 Hz receiver.
    public var reportEveryFix = false
    /// The share of the fleet that drives (`FleetDrive`) while the broker is away; the rest is parked.
    public var drivingShare = 0.5
    /// trackerd's `[queue] backlog_batch`: fixes per backlog message.
    public var backlogBatch = 50
    /// From a connect request to its answer (TLS and CONNACK).
    public var connectRoundTripSeconds = 0.1
    /// From a publish to its PUBACK.
    public var publishRoundTripSeconds = 0.05
    /// Full jitter (trackerd), or none: each delay the whole backoff window.
    public var jitter = true
    public var seed: UInt64 = 1

    public init() {}
}
