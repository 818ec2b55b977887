/// How the queue orders and packs what it sends once there is a backlog (`[mqtt] topic`,
/// `backlog_topic`, `max_payload_bytes`, `[queue] backlog_batch`).
///
/// "Backlog" is a fix produced while offline or not acknowledged within `spill_after_s`.
/// Live fixes and every event go first, one message each; after a reconnect the newest fix
/// goes before everything (the operator wants the current position, not an hour of history);
/// the backlog's fixes take what is left, `batch` to a message on `backlogTopic`.
public struct BacklogPolicy: Sendable, Equatable {
    /// The topic of single fixes; messages on any other topic are events, never batched.
    public var telemetryTopic: String
    public var backlogTopic: String
    /// Fixes per backlog message; 1 sends each on `telemetryTopic`, as without a backlog.
    public var batch: Int
    /// No batch's payload exceeds this (AWS IoT Core: 128 KB).
    public var maxPayloadBytes: Int
    public let deviceID: String
    /// `{"deviceId":"...","fixes":[` — a wire payload, byte for byte; made once, used per batch.
    let batchHead: [UInt8]

    public init(telemetryTopic: String, backlogTopic: String, batch: Int, maxPayloadBytes: Int, deviceID: String) {
        self.telemetryTopic = telemetryTopic
        self.backlogTopic = backlogTopic
        self.batch = max(1, batch)
        self.maxPayloadBytes = maxPayloadBytes
        self.deviceID = deviceID
        batchHead = Array("{\"deviceId\":\(FixPayload.jsonString(deviceID)),\"fixes\":[".utf8)
    }
}
