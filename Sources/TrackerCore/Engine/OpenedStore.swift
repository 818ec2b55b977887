/// What the queue's store held when it was opened, and what opening it had to repair.
public struct OpenedStore: Sendable, Equatable {
    public var path: String
    /// Its messages, oldest first.
    public var messages: [OutboundMessage]
    /// The drop count kept from earlier runs.
    public var droppedBefore: Int
    /// Problems found and repaired on opening (a damaged file moved aside, messages salvaged),
    /// as the operator should read them.
    public var repairs: [Repair]

    public struct Repair: Sendable, Equatable {
        public var description: String
        /// `queue-store-replaced` or `queue-salvaged`.
        public var event: String
        public var recovered: Int?
        public var lost: Int?

        public init(description: String, event: String, recovered: Int? = nil, lost: Int? = nil) {
            self.description = description
            self.event = event
            self.recovered = recovered
            self.lost = lost
        }
    }

    public init(path: String, messages: [OutboundMessage], droppedBefore: Int, repairs: [Repair] = []) {
        self.path = path
        self.messages = messages
        self.droppedBefore = droppedBefore
        self.repairs = repairs
    }
}
