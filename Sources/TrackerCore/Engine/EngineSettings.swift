/// What the engine is told once, at start: who the device is, what it reads, where it
/// publishes, and the intervals of its routine work.
public struct EngineSettings: Sendable {
    public struct Publishing: Sendable {
        /// host:port, for the log and the status.
        public var endpoint: String
        public var clientID: String
        public var topic: String
        /// The retained online/offline presence topic (`{clientId}` filled in).
        public var statusTopic: String
        public var queue: QueuePolicy
        /// The queue's database, for the journal.
        public var storePath: String
        /// Publishes per second on the connection; 0 = no cap.
        public var maxPublishRate = 100
        /// The order and packing of a drain after an outage.
        public var backlog: BacklogPolicy
        /// The running trackerd's version, in the presence message.
        public var version = TrackerCore.version
        /// The id of the certificate the connection uses, in the presence message: the cloud
        /// learns a rotation worked (and may revoke the certificate it replaced).
        public var certificateId: String?

        public init(endpoint: String, clientID: String, topic: String, statusTopic: String, queue: QueuePolicy, storePath: String,
                    maxPublishRate: Int, backlog: BacklogPolicy) {
            self.endpoint = endpoint
            self.clientID = clientID
            self.topic = topic
            self.statusTopic = statusTopic
            self.queue = queue
            self.storePath = storePath
            self.maxPublishRate = maxPublishRate
            self.backlog = backlog
        }
    }

    /// What the `trackerd` shadow's settings are laid over: the local file and its zones.
    public struct Remote: Sendable {
        /// The configuration file as read, before any shadow setting.
        public var file: TrackerConfig
        /// The file's zones, their GeoJSON files read.
        public var fileZones: [Zone]
        /// The thing whose shadow it is (the client id without provisioning).
        public var thingName: String
        /// `--log-level`: in force while the shadow sets none.
        public var logLevel: EngineLogEntry.Level
        /// Follow the `trackerd` shadow (`[mqtt] shadow`).
        public var shadow = true
        /// Take AWS IoT Jobs (`[jobs] enabled`).
        public var jobs = true

        public init(file: TrackerConfig, fileZones: [Zone], thingName: String, logLevel: EngineLogEntry.Level,
                    shadow: Bool = true, jobs: Bool = true) {
            self.file = file
            self.fileZones = fileZones
            self.thingName = thingName
            self.logLevel = logLevel
            self.shadow = shadow
            self.jobs = jobs
        }
    }

    public var deviceID: String
    /// The thing name when the device is fleet-provisioned.
    public var thingName: String?
    /// The fix source, as the operator knows it ("gpsd at 127.0.0.1:2947").
    public var source: String
    public var processID: Int32
    public var staleAfter: Duration
    /// nil without an [mqtt] endpoint: fixes are logged, not published.
    public var publishing: Publishing?
    /// systemd's WatchdogSec halved; nil when the unit has none.
    public var watchdogInterval: Duration?
    public var statusInterval: Duration = .seconds(2)
    /// The queue-full warning comes at most this often.
    public var dropReportInterval: Duration = .seconds(60)
    /// Set when the device takes settings from the cloud (its shadow, jobs), with an endpoint.
    public var remote: Remote?
    /// Delays between attempts to open a store that would not open.
    public var storeRetry = Backoff(base: .seconds(1), cap: .seconds(60))
    /// The certificate in use: its id, lifetime and where its key is ("file" or "token"), for
    /// the status; and `[credentials] rotate_before_days` when the device renews it itself
    /// (fleet-provisioned): a tracker that runs for months without a restart renews it too.
    public var certificate: (id: String, lifetime: CertificateLifetime, key: String, rotateBeforeDays: Int?)?
    /// The lowest level logged (the command line's); entries below it are not even made, since
    /// a debug line per fix costs its formatting. The shadow's `log_level` changes it.
    public var logLevel: EngineLogEntry.Level = .trace
    /// How often a running tracker looks at its certificate's expiry (the start looks first).
    public var certificateCheckInterval: Duration = .seconds(86_400)

    public init(deviceID: String, thingName: String?, source: String, processID: Int32, staleAfter: Duration,
                publishing: Publishing?, watchdogInterval: Duration? = nil) {
        self.deviceID = deviceID
        self.thingName = thingName
        self.source = source
        self.processID = processID
        self.staleAfter = staleAfter
        self.publishing = publishing
        self.watchdogInterval = watchdogInterval
    }

    /// The settings a configuration describes; `publishing` is nil when it names no endpoint
    /// unless `alwaysPublish` (`simulate` shows what would be sent either way).
    public init(config: TrackerConfig, deviceID: String, thingName: String?, source: String, processID: Int32,
                watchdogInterval: Duration? = nil, alwaysPublish: Bool = false) {
        let clientID = config.mqtt.clientID ?? deviceID
        var publishing: Publishing?
        if config.mqtt.endpoint != nil || alwaysPublish {
            publishing = Publishing(endpoint: "\(config.mqtt.endpoint ?? "localhost"):\(config.mqtt.port)", clientID: clientID,
                                    topic: config.mqtt.topic,
                                    statusTopic: config.mqtt.statusTopic.replacing("{clientId}", with: clientID),
                                    queue: config.queue, storePath: config.store.directory + "/queue.db",
                                    maxPublishRate: config.mqtt.maxPublishRate,
                                    backlog: BacklogPolicy(telemetryTopic: config.mqtt.topic,
                                                           backlogTopic: config.mqtt.backlogTopic.replacing("{thingName}", with: clientID),
                                                           batch: config.queue.backlogBatch, maxPayloadBytes: config.mqtt.maxPayloadBytes,
                                                           deviceID: deviceID))
        }
        self.init(deviceID: deviceID, thingName: thingName, source: source, processID: processID,
                  staleAfter: config.gps.staleAfter, publishing: publishing, watchdogInterval: watchdogInterval)
    }
}
