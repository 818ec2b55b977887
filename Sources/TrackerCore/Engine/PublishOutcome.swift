/// What became of a `.publish` action's messages, in order: each handed to the connection got
/// a message id; the first that could not be handed over stops the batch.
public struct PublishOutcome: Sendable, Equatable {
    public enum Failure: Sendable, Equatable {
        case notConnected
        case rejected(sequence: Int64, reason: String)
    }

    public var sent: [Sent]
    public var failure: Failure?

    public struct Sent: Sendable, Equatable {
        public var sequence: Int64
        public var messageID: Int32

        public init(sequence: Int64, messageID: Int32) {
            self.sequence = sequence
            self.messageID = messageID
        }
    }

    public init(sent: [Sent], failure: Failure? = nil) {
        self.sent = sent
        self.failure = failure
    }
}
