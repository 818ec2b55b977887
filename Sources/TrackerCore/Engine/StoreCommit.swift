/// A write the engine asks of the queue's store, and what it is for.
public struct StoreCommit: Sendable, Equatable {
    public enum Purpose: Sendable, Equatable {
        /// Spilled or every-message inserts and due deletions, with the drop count.
        case batch
        /// Deletions alone, after a full disk refused a batch: they need little space and free some.
        case deletionsOnly
    }

    public var work: StoreWork
    /// Written with the batch, so the drop count survives a restart; nil for deletions only.
    public var droppedTotal: Int?
    public var purpose: Purpose

    public init(work: StoreWork, droppedTotal: Int?, purpose: Purpose) {
        self.work = work
        self.droppedTotal = droppedTotal
        self.purpose = purpose
    }
}
