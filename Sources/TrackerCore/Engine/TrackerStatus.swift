/// What the running daemon is doing: written by `trackerd run` to status.json, read by
/// `trackerd status` and `trackerd queue stats`, and shortened into systemd's STATUS= line.
///
/// One Codable type for writer and readers, so they cannot drift apart. Absent values are
/// written as `null` (not left out): a script can tell "no fix yet" from an older daemon.
///
/// The file is rewritten when something changes, not as time passes (an idle tracker would
/// wake for nothing): its ages are as of `writtenAt`, and readers bring them to now (`aged`).
public struct TrackerStatus: Codable, Sendable, Equatable {
    public struct Queue: Codable, Sendable, Equatable {
        public var depth: Int
        public var bytes: Int
        /// Seconds since the oldest waiting message was queued (in this run), one decimal.
        public var oldestAgeSeconds: Double?
        /// Drops since the queue was first created, across restarts.
        public var dropped: Int

        public init(depth: Int, bytes: Int, oldestAgeSeconds: Double?, dropped: Int) {
            self.depth = depth
            self.bytes = bytes
            self.oldestAgeSeconds = oldestAgeSeconds
            self.dropped = dropped
        }
    }

    public struct Store: Codable, Sendable, Equatable {
        public var durable: Bool
        /// ISO 8601, UTC: when the queue last became memory-only.
        public var memoryOnlySince: String?
        public var reason: String?

        public init(durable: Bool, memoryOnlySince: String? = nil, reason: String? = nil) {
            self.durable = durable
            self.memoryOnlySince = memoryOnlySince
            self.reason = reason
        }
    }

    /// `[mqtt] max_publish_rate` and whether it is what keeps messages waiting now.
    public struct PublishRate: Codable, Sendable, Equatable {
        /// Publishes per second; 0 = no cap.
        public var cap: Int
        /// Messages ready to go that wait for the cap (0 when it is not holding anything back).
        public var heldBack: Int

        public init(cap: Int, heldBack: Int) {
            self.cap = cap
            self.heldBack = heldBack
        }
    }

    public struct MQTT: Codable, Sendable, Equatable {
        public var endpoint: String
        public var clientId: String
        public var connected: Bool
        public var queue: Queue
        public var store: Store
        public var publishRate: PublishRate

        public init(endpoint: String, clientId: String, connected: Bool, queue: Queue, store: Store, publishRate: PublishRate) {
            self.endpoint = endpoint
            self.clientId = clientId
            self.connected = connected
            self.queue = queue
            self.store = store
            self.publishRate = publishRate
        }
    }

    /// A fix in gpsd's TPV names, as `trackerd decode` prints them.
    public struct FixValues: Codable, Sendable, Equatable {
        public var time: String?
        public var mode: Int
        public var lat: Double?
        public var lon: Double?
        public var altMSL: Double?
        public var speed: Double?
        public var track: Double?
        public var sats: Int?
        public var hdop: Double?

        public init(_ fix: Fix) {
            time = fix.time?.iso8601
            mode = fix.mode.rawValue
            lat = fix.latitude
            lon = fix.longitude
            altMSL = fix.altitudeMSL
            speed = fix.speed
            track = fix.track
            sats = fix.satellitesUsed
            hdop = fix.hdop
        }
    }

    public struct LastFix: Codable, Sendable, Equatable {
        public var ageSeconds: Double
        public var fix: FixValues
        /// ISO 8601, UTC: when trackerd received it (by this device's clock).
        public var receivedAt: String?

        public init(ageSeconds: Double, fix: FixValues, receivedAt: String? = nil) {
            self.ageSeconds = ageSeconds
            self.fix = fix
            self.receivedAt = receivedAt
        }
    }

    /// The `trackerd` shadow as the device follows it.
    public struct Shadow: Codable, Sendable, Equatable {
        /// `$aws/things/{thing}/shadow/name/trackerd`
        public var topic: String
        /// The shadow version of the settings in force (nil: none applied).
        public var appliedVersion: Int?
        /// Why the current desired state is not in force (empty when it is).
        public var errors: [RemoteSettings.Problem]

        public init(_ shadow: DeviceShadow) {
            topic = String(shadow.prefix.dropLast())
            appliedVersion = shadow.applied.document.isEmpty && shadow.appliedVersion == 0 ? nil : shadow.appliedVersion
            errors = shadow.problems
        }
    }

    /// The device certificate in use.
    public struct Certificate: Codable, Sendable, Equatable {
        /// AWS IoT's certificateId (SHA-256 of the DER).
        public var id: String
        /// ISO 8601, UTC.
        public var notAfter: String
        /// One decimal; negative once expired.
        public var daysLeft: Double
        /// `[credentials] rotate_before_days` when the device renews it itself (provisioned).
        public var renewedDaysBefore: Int?
        /// "file" or "token".
        public var key: String

        public init(id: String, notAfter: String, daysLeft: Double, renewedDaysBefore: Int?, key: String) {
            self.id = id
            self.notAfter = notAfter
            self.daysLeft = daysLeft
            self.renewedDaysBefore = renewedDaysBefore
            self.key = key
        }
    }

    /// The job in hand (AWS IoT Jobs).
    public struct Job: Codable, Sendable, Equatable {
        public var jobId: String
        public var operation: String?
        /// downloading, installing, applying; or the status decided and not yet acknowledged.
        public var step: String
        public var bytes: Int64?
        public var total: Int64?

        public init?(_ runner: JobRunner) {
            guard let active = runner.ledger.active else { return nil }
            jobId = active.jobId
            operation = active.operation?.name
            step = active.outcome?.status ?? active.step.rawValue
            bytes = runner.progress?.bytes
            total = runner.progress?.total
        }
    }

    public var pid: Int32
    /// ISO 8601, UTC: when the figures were taken; the ages are as of then.
    public var writtenAt: String?
    /// The running trackerd's version (the update unit waits for the new one to connect).
    public var version = TrackerCore.version
    public var deviceId: String
    /// The thing name when the device is fleet-provisioned.
    public var thing: String?
    public var provisioned: Bool
    public var source: String
    /// nil without an [mqtt] endpoint.
    public var mqtt: MQTT?
    public var lastFix: LastFix?
    /// Every configured zone: its state, or nil until the first fix decides it.
    public var zones: [String: ZoneState?]
    /// Metres travelled, all time (kept across restarts).
    public var odometerMetres: Double = 0
    /// "moving" or "stopped", by the reporting policy's rules.
    public var motion = "stopped"
    /// nil when the device does not follow a shadow.
    public var shadow: Shadow?
    /// The remote-capable settings in force and where each came from (empty without a shadow).
    public var settings: [EffectiveSetting] = []
    public var job: Job?
    public var certificate: Certificate?

    public init(pid: Int32, deviceId: String, thing: String?, source: String, mqtt: MQTT?, lastFix: LastFix?,
                zones: [String: ZoneState?]) {
        self.pid = pid
        self.deviceId = deviceId
        self.thing = thing
        self.provisioned = thing != nil
        self.source = source
        self.mqtt = mqtt
        self.lastFix = lastFix
        self.zones = zones
    }

    private enum CodingKeys: String, CodingKey {
        case pid, writtenAt, version, deviceId, thing, provisioned, source, mqtt, lastFix, zones, odometerMetres, motion, shadow, settings, job,
             certificate
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pid, forKey: .pid)
        try container.encode(writtenAt, forKey: .writtenAt)
        try container.encode(version, forKey: .version)
        try container.encode(deviceId, forKey: .deviceId)
        try container.encode(thing, forKey: .thing)
        try container.encode(provisioned, forKey: .provisioned)
        try container.encode(source, forKey: .source)
        try container.encode(mqtt, forKey: .mqtt)
        try container.encode(lastFix, forKey: .lastFix)
        try container.encode(zones, forKey: .zones)
        try container.encode(odometerMetres, forKey: .odometerMetres)
        try container.encode(motion, forKey: .motion)
        try container.encode(shadow, forKey: .shadow)
        try container.encode(settings, forKey: .settings)
        try container.encode(job, forKey: .job)
        try container.encode(certificate, forKey: .certificate)
    }

    /// The same status with its ages and its time left out: what tells whether it says anything new.
    public var withoutAges: TrackerStatus {
        var status = self
        status.writtenAt = nil
        status.lastFix?.ageSeconds = 0
        status.mqtt?.queue.oldestAgeSeconds = mqtt?.queue.oldestAgeSeconds.map { _ in 0 }
        status.certificate?.daysLeft = 0
        return status
    }

    /// The figures as of `wallMilliseconds` (since 1970): the ages grown, the days left shrunk,
    /// by the time since `writtenAt`. Unchanged without `writtenAt` (an older writer).
    public func aged(to wallMilliseconds: Int64) -> TrackerStatus {
        guard let written = writtenAt.flatMap(UTCTimestamp.init(iso8601:)) else { return self }
        let seconds = Double(max(0, wallMilliseconds - written.millisecondsSinceEpoch)) / 1000
        func tenth(_ value: Double) -> Double { (value * 10).rounded() / 10 }
        var status = self
        status.lastFix?.ageSeconds = tenth((lastFix?.ageSeconds ?? 0) + seconds)
        status.mqtt?.queue.oldestAgeSeconds = mqtt?.queue.oldestAgeSeconds.map { tenth($0 + seconds) }
        status.certificate?.daysLeft = tenth((certificate?.daysLeft ?? 0) - seconds / 86_400)
        return status
    }

    /// The line `systemctl status` shows: "connected to host:8883 as thing; queue 0; last fix at
    /// 08:03:21 UTC (3D, 9 sats)". It holds no age: systemd keeps it until the next change.
    public var summary: String {
        var text: String
        if let mqtt {
            text = (mqtt.connected ? "connected to \(mqtt.endpoint) as \(mqtt.clientId)" : "not connected to \(mqtt.endpoint)")
                + "; queue \(mqtt.queue.depth)"
            if !mqtt.store.durable { text += " (memory only since \(mqtt.store.memoryOnlySince ?? "?"))" }
            if mqtt.publishRate.heldBack > 0 {
                text += "; rate cap \(mqtt.publishRate.cap)/s holding \(mqtt.publishRate.heldBack) back"
            }
        } else {
            text = "not publishing (no [mqtt] endpoint)"
        }
        guard let lastFix else { return text + "; no fix yet" }
        let mode = FixMode(rawValue: lastFix.fix.mode).map { "\($0)" } ?? "mode \(lastFix.fix.mode)"
        // "2026-11-30T08:03:21.250Z" -> "08:03:21 UTC"
        let at = lastFix.receivedAt.map { " at " + $0.dropFirst(11).prefix(8) + " UTC" } ?? ""
        return text + "; last fix\(at) (\(mode)\(lastFix.fix.sats.map { ", \($0) sats" } ?? ""))"
    }
}
