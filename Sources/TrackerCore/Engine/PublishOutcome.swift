/// What became of a `.publish` action's publications, in order: each handed to the connection
/// got a message id; the first that could not be handed over stops the rest.
public struct PublishOutcome: Sendable, Equatable {
    public enum Failure: Sendable, Equatable {
        case notConnected
        case rejected(sequences: [Int64], reason: String)
    }

    public struct Sent: Sendable, Equatable {
        /// The queued messages the publication carried (several for a backlog batch).
        public var sequences: [Int64]
        public var messageID: Int32

        public init(sequences: [Int64], messageID: Int32) {
            self.sequences = sequences
            self.messageID = messageID
        }
    }

    public var sent: [Sent]
    public var failure: Failure?
    /// When the last of them was handed over, if later than the engine decided (nil: at once).
    public var at: MonotonicInstant?

    public init(sent: [Sent], failure: Failure? = nil, at: MonotonicInstant? = nil) {
        self.sent = sent
        self.failure = failure
        self.at = at
    }
}
