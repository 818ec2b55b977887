/// What AWS IoT Core would throttle or refuse, measured per client on localcloud's broker:
/// more than 100 publishes in one second on a connection, a payload over 128 KB, a topic with
/// more than 7 slashes (Basic Ingest's `$aws/rules/...` is exempt) or over 256 bytes.
///
/// Seconds are Mosquitto's own timestamps, so a busy localcloud reading its log late cannot
/// see a burst that was not there.
public struct AWSLimitMeter: Sendable {
    public struct Limits: Sendable, Equatable {
        public var publishesPerSecond = 100
        public var maxPayloadBytes = 131_072
        public var maxTopicSlashes = 7
        public var maxTopicBytes = 256

        public init() {}
    }

    public enum Violation: Sendable, Equatable, CustomStringConvertible {
        case rate(clientID: String, second: Int64, publishes: Int, limit: Int)
        case payload(clientID: String, topic: String, bytes: Int, limit: Int)
        case topic(clientID: String, topic: String, reason: String)

        public var clientID: String {
            switch self {
            case .rate(let client, _, _, _), .payload(let client, _, _, _), .topic(let client, _, _): client
            }
        }

        public var description: String {
            switch self {
            case .rate(let client, let second, let publishes, let limit):
                "AWS IoT Core would throttle \(client): more than \(limit) publishes in the second \(second) (\(publishes) so far; the limit is \(limit) per second per connection)"
            case .payload(let client, let topic, let bytes, let limit):
                "AWS IoT Core would refuse \(client)'s publish on \(topic): \(bytes) bytes, over the \(limit)-byte payload limit"
            case .topic(let client, let topic, let reason):
                "AWS IoT Core would refuse \(client)'s publish on \(topic): \(reason)"
            }
        }
    }

    public let limits: Limits
    /// Per client: the second being counted and its publishes so far.
    private var counts: [String: (second: Int64, publishes: Int)] = [:]

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// One publish as Mosquitto logged it; the limits it breaks. A rate is reported once per
    /// client and second, at the first publish over it.
    public mutating func record(_ publish: MosquittoPublishLine) -> [Violation] {
        var out: [Violation] = []
        if let second = publish.second {
            var count: (second: Int64, publishes: Int) = counts[publish.clientID].flatMap { $0.second == second ? $0 : nil } ?? (second, 0)
            count.publishes += 1
            counts[publish.clientID] = count
            if count.publishes == limits.publishesPerSecond + 1 {
                out.append(.rate(clientID: publish.clientID, second: second, publishes: count.publishes, limit: limits.publishesPerSecond))
            }
        }
        if publish.size > limits.maxPayloadBytes {
            out.append(.payload(clientID: publish.clientID, topic: publish.topic, bytes: publish.size, limit: limits.maxPayloadBytes))
        }
        if publish.topic.utf8.count > limits.maxTopicBytes {
            out.append(.topic(clientID: publish.clientID, topic: publish.topic, reason: "over \(limits.maxTopicBytes) bytes"))
        } else if !publish.topic.hasPrefix("$aws/rules/"), publish.topic.filter({ $0 == "/" }).count > limits.maxTopicSlashes {
            out.append(.topic(clientID: publish.clientID, topic: publish.topic, reason: "more than \(limits.maxTopicSlashes) slashes"))
        }
        return out
    }

    /// A new connection of `clientID` (Mosquitto: "New client connected ... as ID"): AWS's
    /// limit is per connection, and a tracker restarted within a second starts afresh.
    public mutating func connected(_ clientID: String) {
        counts[clientID] = nil
    }

    /// Clients gone for a minute leave the table.
    public mutating func forget(before second: Int64) {
        counts = counts.filter { $0.value.second >= second - 60 }
    }
}
