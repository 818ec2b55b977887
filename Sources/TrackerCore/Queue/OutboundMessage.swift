/// One message waiting to be published, numbered in the order it was produced.
public struct OutboundMessage: Sendable, Equatable {
    public let sequence: Int64
    public let topic: String
    public let payload: [UInt8]

    public init(sequence: Int64, topic: String, payload: [UInt8]) {
        self.sequence = sequence
        self.topic = topic
        self.payload = payload
    }

    /// What it costs the queue's byte bound.
    public var size: Int { topic.utf8.count + payload.count }
}
