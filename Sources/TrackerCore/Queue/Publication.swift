/// One MQTT publish the queue hands out: a single message, or a batch of backlog fixes that
/// is acknowledged, and leaves the queue, as one.
public struct Publication: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    /// The queued messages it carries, oldest first.
    public var sequences: [Int64]

    public init(topic: String, payload: [UInt8], sequences: [Int64]) {
        self.topic = topic
        self.payload = payload
        self.sequences = sequences
    }

    public var isBatch: Bool { sequences.count > 1 }
}
