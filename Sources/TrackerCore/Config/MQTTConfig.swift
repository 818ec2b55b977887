/// The `[mqtt]` section. Without an `endpoint`, trackerd publishes nothing and only logs fixes.
public struct MQTTConfig: Sendable, Equatable {
    public enum ProtocolVersion: String, Sendable {
        case v311 = "3.1.1"
        case v5 = "5"
    }

    public var endpoint: String?
    public var port = 8883
    public var caFile = "/etc/trackerd/ca.pem"
    public var certFile = "/etc/trackerd/device.pem.crt"
    public var keyFile = "/etc/trackerd/device.pem.key"
    /// nil: the device id.
    public var clientID: String?
    public var keepalive = 60
    public var topic = "gpsTopic"
    /// `{clientId}` is replaced by the client id.
    public var statusTopic = "trackers/{clientId}/status"
    /// Geofence events; `{thingName}` is the thing name (or the client id without provisioning).
    public var eventsTopic = "trackers/{thingName}/geofence"
    /// Backlog fixes in batches (`[queue] backlog_batch`); `{thingName}` is filled in.
    public var backlogTopic = "trackers/{thingName}/backlog"
    /// Trips and overspeeds; `{thingName}` is filled in.
    public var alertsTopic = "trackers/{thingName}/alerts"
    /// Publishes per second per connection, every kind counted; 0 = no cap. AWS IoT Core: 100.
    public var maxPublishRate = 100
    /// No batch is larger. AWS IoT Core: 128 KB (metered in 5 KB steps).
    public var maxPayloadBytes = 131_072
    public var protocolVersion: ProtocolVersion = .v311
    /// An ALPN protocol to offer, e.g. `x-amzn-mqtt-ca` for AWS IoT on port 443.
    public var alpn: String?
    /// Reconnect backoff: delay = random(0, min(max, min·2^attempt)).
    public var reconnectMin: Duration = .seconds(1)
    public var reconnectMax: Duration = .seconds(120)
    /// Follow the thing's `trackerd` named shadow (settings and zones from the cloud). The
    /// device policy must then allow its topics, or AWS IoT Core ends the connection.
    public var shadow = true

    public init() {}

    static let keys = ["endpoint", "port", "ca_file", "cert_file", "key_file", "client_id", "keepalive_s", "topic",
                       "status_topic", "events_topic", "protocol", "alpn", "reconnect_min_s", "reconnect_max_s",
                       "max_publish_rate", "backlog_topic", "max_payload_bytes", "alerts_topic", "shadow"]

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        let s = "mqtt"
        if let (host, line) = reader.string(table, s, "endpoint") {
            if host.isEmpty || host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == ":" }) {
                reader.fail(line, "mqtt.endpoint", "\"\(host)\" must be a host name or address, without scheme or port")
            } else { endpoint = host }
        }
        if let port = reader.integer(table, s, "port", range: 1...65535) { self.port = Int(port) }
        for (key, path) in [("ca_file", \MQTTConfig.caFile), ("cert_file", \.certFile), ("key_file", \.keyFile)] {
            if let (file, line) = reader.string(table, s, key) {
                if file.hasPrefix("/") { self[keyPath: path] = file } else if PKCS11URI.looksLikeURI(file) {
                    reader.fail(line, "mqtt.\(key)", "a key in a token is set with [credentials] key = \"\(file)\"")
                } else {
                    reader.fail(line, "mqtt.\(key)", "\"\(file)\" must be an absolute path")
                }
            }
        }
        if let (id, line) = reader.string(table, s, "client_id") {
            if id.isEmpty || id.utf8.count > 128 || id.contains(where: { $0 == "#" || $0 == "+" || $0 == "/" }) {
                reader.fail(line, "mqtt.client_id", "\"\(id)\" must be 1 to 128 bytes without # + /")
            } else { clientID = id }
        }
        if let seconds = reader.integer(table, s, "keepalive_s", range: 30...1200) { keepalive = Int(seconds) }
        if let (topic, line) = reader.string(table, s, "topic") {
            if Self.isPublishTopic(topic) { self.topic = topic } else {
                reader.fail(line, "mqtt.topic", "\"\(topic)\" is not a topic one can publish to (no wildcards, 1 to 256 bytes)")
            }
        }
        if let (topic, line) = reader.string(table, s, "status_topic") {
            if Self.isPublishTopic(topic) { statusTopic = topic } else {
                reader.fail(line, "mqtt.status_topic", "\"\(topic)\" is not a topic one can publish to (no wildcards, 1 to 256 bytes)")
            }
        }
        if let (topic, line) = reader.string(table, s, "events_topic") {
            if Self.isPublishTopic(topic) { eventsTopic = topic } else {
                reader.fail(line, "mqtt.events_topic", "\"\(topic)\" is not a topic one can publish to (no wildcards, 1 to 256 bytes)")
            }
        }
        if let (topic, line) = reader.string(table, s, "alerts_topic") {
            if Self.isPublishTopic(topic) { alertsTopic = topic } else {
                reader.fail(line, "mqtt.alerts_topic", "\"\(topic)\" is not a topic one can publish to (no wildcards, 1 to 256 bytes)")
            }
        }
        if let (topic, line) = reader.string(table, s, "backlog_topic") {
            if Self.isPublishTopic(topic) { backlogTopic = topic } else {
                reader.fail(line, "mqtt.backlog_topic", "\"\(topic)\" is not a topic one can publish to (no wildcards, 1 to 256 bytes)")
            }
        }
        if let n = reader.integer(table, s, "max_publish_rate", range: 0...10_000) { maxPublishRate = Int(n) }
        if let n = reader.integer(table, s, "max_payload_bytes", range: 1024...(256 * 1024 * 1024)) { maxPayloadBytes = Int(n) }
        if let (text, line) = reader.string(table, s, "protocol") {
            if let version = ProtocolVersion(rawValue: text) { protocolVersion = version } else {
                reader.fail(line, "mqtt.protocol", "\"\(text)\" must be \"3.1.1\" or \"5\"")
            }
        }
        if let (text, line) = reader.string(table, s, "alpn") {
            if text.isEmpty || text.utf8.count > 255 { reader.fail(line, "mqtt.alpn", "must be 1 to 255 bytes") } else { alpn = text }
        }
        if let seconds = reader.number(table, s, "reconnect_min_s", range: 0.01...3600) {
            reconnectMin = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        if let seconds = reader.number(table, s, "reconnect_max_s", range: 0.01...86_400) {
            reconnectMax = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        if let value = table["shadow"] {
            if case .boolean(let flag) = value.kind { shadow = flag } else {
                reader.fail(value.line, "mqtt.shadow", "expected true or false, found \(value.typeName)")
            }
        }
        if reconnectMax < reconnectMin {
            reader.fail(reader.line(of: "reconnect_max_s", in: table), "mqtt.reconnect_max_s", "must not be less than mqtt.reconnect_min_s")
        }
        reader.unknownKeys(in: table, section: s, known: Self.keys)
    }

    static func isPublishTopic(_ topic: String) -> Bool {
        !topic.isEmpty && topic.utf8.count <= 256 && !topic.contains("#") && !topic.contains("+")
    }
}
