/// What happens to a connection, in the order it happens.
public enum MQTTEvent: Sendable, Equatable {
    /// The broker accepted the session (CONNACK 0).
    case connected
    /// No session came about; `reason` is one line an operator can act on.
    case connectionFailed(reason: String)
    /// An established session ended.
    case disconnected(reason: String)
    /// The next attempt comes after `delay` (full-jitter backoff).
    case retrying(after: Duration)
    /// The broker acknowledged (PUBACK) QoS 1 messages: collect their ids with
    /// `MQTTConnection.takeAcknowledged()`. One event stands for every acknowledgement that
    /// arrived until then, so a burst costs one wake-up of the consumer, not one per message.
    case acknowledgementsReady
    /// The broker acknowledged (SUBACK) the subscription request with this message id.
    /// (A broker that denies a topic still answers, with QoS 0x80 in MQTT 3.1.1.)
    case subscribed(messageID: Int32, granted: [Int32])
    /// A message on a subscribed topic.
    case message(topic: String, payload: [UInt8])
}
