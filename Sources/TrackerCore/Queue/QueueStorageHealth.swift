/// Whether the outbound queue has its disk, since when it has not, and when to try again.
///
/// The store can be missing (it would not open: permissions, a full disk at start, an I/O
/// error) or refuse commits (a full disk). Either way the queue carries on in memory — a crash
/// then loses what it holds — so the operator is told once when it starts ("memory only
/// since ...") and once when it ends, and a store that would not open is tried again with
/// backoff until it does, instead of leaving the daemon memory-only for the rest of its run.
public struct QueueStorageHealth: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case durable
        /// `since`: wall-clock milliseconds since 1970, for the status and the journal.
        case memoryOnly(since: Int64, reason: String)
    }

    public private(set) var state: State = .durable
    private var backoff: Backoff
    /// When a store that would not open is tried again (nil: it is not waited for).
    public private(set) var retryAt: MonotonicInstant?

    public init(retry: Backoff = Backoff(base: .seconds(1), cap: .seconds(60))) {
        backoff = retry
    }

    public var isDurable: Bool { state == .durable }

    /// A failure to open or to commit. True when this starts a memory-only period (log it); the
    /// next open is due after a backoff delay drawn with `random`.
    public mutating func failed(_ reason: String, wallMilliseconds: Int64, now: MonotonicInstant,
                                random: inout some RandomNumberGenerator) -> Bool {
        retryAt = now + backoff.nextDelay(using: &random)
        guard case .durable = state else { return false }
        state = .memoryOnly(since: wallMilliseconds, reason: reason)
        return true
    }


    /// The store worked. Returns the memory-only period this ends, if any (log it).
    public mutating func succeeded() -> (since: Int64, reason: String)? {
        backoff.reset()
        retryAt = nil
        guard case .memoryOnly(let since, let reason) = state else { return nil }
        state = .durable
        return (since, reason)
    }

    /// Whether a store that would not open should be tried again now.
    public func openIsDue(now: MonotonicInstant) -> Bool {
        retryAt.map { now >= $0 } ?? true
    }
}
