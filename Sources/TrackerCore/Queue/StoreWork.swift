/// What the queue asks its durable store to do in one transaction.
public struct StoreWork: Sendable, Equatable {
    public var insert: [OutboundMessage] = []
    public var delete: [Int64] = []

    public init(insert: [OutboundMessage] = [], delete: [Int64] = []) {
        self.insert = insert
        self.delete = delete
    }

    public var isEmpty: Bool { insert.isEmpty && delete.isEmpty }
}
