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
    /// The broker acknowledged (PUBACK) the QoS 1 message with this message id.
    case acknowledged(messageID: Int32)
}
