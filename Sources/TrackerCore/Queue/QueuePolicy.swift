/// The bounds and timing of the outbound queue (`[queue]`).
public struct QueuePolicy: Sendable, Equatable {
    public var maxMessages = 100_000
    public var maxBytes = 32 * 1024 * 1024
    /// QoS 1 messages published and not yet acknowledged; AWS IoT allows 100 per connection.
    public var maxInflight = 20
    public var spillAfter: Duration = .seconds(5)
    public var commitInterval: Duration = .seconds(5)
    public var durability: QueueDurability = .batched
    /// No PUBACK for this long while messages are in flight: the broker is treated as offline
    /// for spilling (a hung broker keeps the TCP connection open and acknowledges nothing).
    public var ackTimeout: Duration = .seconds(2)
    /// Backlog fixes per message on `[mqtt] backlog_topic`; 1 sends each on its own.
    public var backlogBatch = 50

    public init() {}
}
