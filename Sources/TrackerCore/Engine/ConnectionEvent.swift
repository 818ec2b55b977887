/// What the MQTT connection reports to the engine, in the order it happened.
public enum ConnectionEvent: Sendable, Equatable {
    /// The broker accepted the session.
    case connected
    /// The broker acknowledged (PUBACK) these message ids.
    case acknowledged([Int32])
    /// An established session ended.
    case disconnected(reason: String)
    /// No session came about.
    case connectionFailed(reason: String)
    /// The next attempt comes after `delay`.
    case retrying(after: Duration)
}
