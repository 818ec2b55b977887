/// Every message trackerd publishes: FIFO, bounded, at-least-once, memory first.
///
/// The queue decides; it does no I/O. It hands out messages to publish (at most `maxInflight`
/// unacknowledged), takes acknowledgements, and says what must reach the disk and when
/// (`StoreWork`): in batches, messages that were not acknowledged within `spillAfter` or were
/// produced while offline; with `every-message`, each message as it comes. A message leaves
/// the queue only when it is acknowledged, or dropped as the oldest when a bound is reached.
///
/// A broker that keeps the TCP connection open but stops acknowledging (hung) counts as
/// offline for spilling once no PUBACK has come for `policy.ackTimeout` while messages are in
/// flight: otherwise everything produced meanwhile would wait `spillAfter` in memory.
public struct OutboundQueue: Sendable {
    struct Entry: Sendable {
        let message: OutboundMessage
        /// The message's, kept beside it: reading `message` out of the array copies it (its
        /// topic and payload retained and released), and the searches and the acknowledgements
        /// want only these.
        let sequence: Int64
        let size: Int
        var enqueuedAt: MonotonicInstant
        var producedOffline: Bool
        var inflight = false
        var sentAt: MonotonicInstant?
        var acknowledged = false
        var onDisk: Bool
        var writing = false

        init(message: OutboundMessage, enqueuedAt: MonotonicInstant, producedOffline: Bool, onDisk: Bool, writing: Bool = false) {
            self.message = message
            sequence = message.sequence
            size = message.size
            self.enqueuedAt = enqueuedAt
            self.producedOffline = producedOffline
            self.onDisk = onDisk
            self.writing = writing
        }
    }

    public let policy: QueuePolicy
    /// Entries in sequence order; `head` skips the ones already gone from the front.
    private var entries: [Entry] = []
    private var head = 0
    private var nextSequence: Int64
    private var pendingDeletes: [Int64] = []
    private var lastCommit: MonotonicInstant
    /// The earliest moment `due` can find work: an entry not on disk becomes a spill, or
    /// deletions wait (then `lastCommit`). Lowered by every change that makes work, made exact
    /// by `due`; nil: nothing waits. Lets the daemon sleep instead of asking `due` on a timer.
    private var workFrom: MonotonicInstant?
    public private(set) var bytes = 0
    public private(set) var count = 0
    /// Messages in flight (a batch counts each of its fixes).
    public private(set) var inflightCount = 0
    /// Publishes in flight: the window `maxInflight` bounds (a batch counts once).
    public private(set) var inflightPublications = 0
    /// Messages on any other topic are events: with a `BacklogPolicy` they go before the backlog.
    /// nil: no lanes.
    public let telemetryTopic: String?
    /// Sequences that may go before the backlog — events, and fixes made while connected —
    /// oldest first; acknowledged ones leave from the front. Keeps a drain's pump from walking
    /// the whole backlog to find them.
    private var priority: [Int64] = []
    private var priorityHead = 0
    /// No unsent backlog fix has a lower sequence than this (back to the front on a lost connection).
    private var backlogCursor: Int64 = 0
    /// The newest fix at the last reconnect.
    private var promotedSequence: Int64?
    /// Drops since the queue was first created, across restarts (the store keeps the count).
    public private(set) var droppedTotal: Int
    private var droppedUnreported = 0
    /// The last PUBACK, or when the window last went from empty to busy: the broker's last sign
    /// of progress.
    private var lastProgress: MonotonicInstant

    /// `restored`: what a previous run left on disk, oldest first. It is sent before anything new.
    /// `droppedBefore`: the drop count the store kept from earlier runs.
    public init(policy: QueuePolicy, restored: [OutboundMessage] = [], droppedBefore: Int = 0, now: MonotonicInstant,
                telemetryTopic: String? = nil) {
        self.policy = policy
        self.telemetryTopic = telemetryTopic
        lastCommit = now
        lastProgress = now
        droppedTotal = droppedBefore
        nextSequence = (restored.map(\.sequence).max() ?? 0) + 1
        for message in restored.sorted(by: { $0.sequence < $1.sequence }) {
            entries.append(Entry(message: message, enqueuedAt: now, producedOffline: true, onDisk: true))
            if isEvent(message) { priority.append(message.sequence) }
            bytes += message.size
            count += 1
        }
        var unused = StoreWork()
        enforceBounds(&unused)
    }

    /// Adds a message. With `every-message` durability the returned work must be committed
    /// before the message counts as safe; otherwise it is usually empty.
    public mutating func enqueue(topic: String, payload: [UInt8], now: MonotonicInstant,
                                 connected: Bool) -> StoreWork {
        let message = OutboundMessage(sequence: nextSequence, topic: topic, payload: payload)
        nextSequence += 1
        var entry = Entry(message: message, enqueuedAt: now, producedOffline: !connected || isStalled(now: now), onDisk: false)
        var work = StoreWork()
        if policy.durability == .everyMessage {
            entry.writing = true
            work.insert.append(message)
        } else {
            expectWork(at: entry.producedOffline ? now : now + policy.spillAfter)
        }
        entries.append(entry)
        if isEvent(message) || (telemetryTopic != nil && !entry.producedOffline) { priority.append(message.sequence) }
        bytes += message.size
        count += 1
        enforceBounds(&work)
        return work
    }

    /// The next messages to publish, oldest first, keeping at most `maxInflight` unacknowledged.
    public mutating func nextToSend(now: MonotonicInstant) -> [OutboundMessage] {
        nextPublications(now: now, limit: .max, backlog: nil).compactMap { publication in
            publication.sequences.first.flatMap { position(of: $0) }.map { entries[$0].message }
        }
    }

    /// The next publishes, at most `limit` (the rate cap's tokens) and as many as the window
    /// (`maxInflight` unacknowledged publishes) allows. Without a `backlog` policy: oldest first,
    /// one message each. With one: the promoted newest fix, then events and live fixes in order,
    /// then the backlog's fixes in batches — which leave a quarter of the window (at least one
    /// place) free for what is produced meanwhile.
    public mutating func nextPublications(now: MonotonicInstant, limit: Int, backlog: BacklogPolicy?) -> [Publication] {
        var budget = min(limit, policy.maxInflight - inflightPublications)
        guard budget > 0 else { return [] }
        if inflightCount == 0 { lastProgress = now }
        var out: [Publication] = []
        guard let backlog else {
            var i = head
            while i < entries.count && budget > 0 {
                if !entries[i].inflight && !entries[i].acknowledged {
                    out.append(send([i], as: nil, now: now))
                    budget -= 1
                }
                i += 1
            }
            return out
        }
        // 1. The promoted newest fix, then events and live fixes in the order they were made.
        while priorityHead < priority.count, position(of: priority[priorityHead]).map({ entries[$0].acknowledged }) ?? true {
            priorityHead += 1
        }
        if priorityHead > 1024 && priorityHead * 2 > priority.count {
            priority.removeFirst(priorityHead)
            priorityHead = 0
        }
        if let promoted = promotedSequence, budget > 0, let i = position(of: promoted), !entries[i].inflight, !entries[i].acknowledged {
            out.append(send([i], as: nil, now: now))
            budget -= 1
        }
        var k = priorityHead
        while k < priority.count && budget > 0 {
            if let i = position(of: priority[k]), !entries[i].inflight, !entries[i].acknowledged,
               entries[i].message.topic != backlog.telemetryTopic || !isBacklog(entries[i], now: now) {
                out.append(send([i], as: nil, now: now))
                budget -= 1
            }
            k += 1
        }
        // 2. The backlog, oldest first, in batches, leaving room in the window for live messages.
        let reserve = max(1, policy.maxInflight / 4)
        var backlogBudget = min(budget, policy.maxInflight - reserve - inflightPublications)
        var batch: [Int] = []
        var size = backlog.batchHead.count + 2
        var i = lowerBound(backlogCursor)
        var cursorHeld = false
        while i < entries.count && backlogBudget > 0 {
            // Read in place: a copy of the entry would retain and release its topic and payload.
            let entry = entries.withUnsafeBufferPointer { buffer in
                (inflight: buffer[i].inflight, acknowledged: buffer[i].acknowledged, sequence: buffer[i].sequence,
                 isFix: buffer[i].message.topic == backlog.telemetryTopic, payloadCount: buffer[i].message.payload.count,
                 isBacklog: isBacklog(buffer[i], now: now))
            }
            i += 1
            let isFix = entry.isFix
            let candidate = !entry.inflight && !entry.acknowledged && entry.sequence != promotedSequence && isFix
                && entry.isBacklog
            // The cursor passes what can never be a backlog candidate again (sent, acknowledged,
            // events) and, below, what joins a batch; it stops at anything else.
            guard candidate else {
                if !cursorHeld && (entry.inflight || entry.acknowledged || !isFix) {
                    backlogCursor = entry.sequence + 1
                } else {
                    cursorHeld = true
                }
                continue
            }
            let cost = entry.payloadCount + (batch.isEmpty ? 0 : 1)
            if !batch.isEmpty && (batch.count >= backlog.batch || size + cost > backlog.maxPayloadBytes) {
                out.append(send(batch, as: backlog, now: now))
                backlogBudget -= 1
                batch = []
                size = backlog.batchHead.count + 2
                guard backlogBudget > 0 else { break }
            }
            size += entry.payloadCount + (batch.isEmpty ? 0 : 1)
            batch.append(i - 1)
            if !cursorHeld { backlogCursor = entry.sequence + 1 }
        }
        if !batch.isEmpty && backlogBudget > 0 {
            out.append(send(batch, as: backlog, now: now))
        } else if let first = batch.first {
            // Not sent after all: the cursor must not have passed it.
            backlogCursor = min(backlogCursor, entries[first].sequence)
        }
        return out
    }

    private func isEvent(_ message: OutboundMessage) -> Bool {
        telemetryTopic.map { message.topic != $0 } ?? false
    }

    /// The index of the first entry with a sequence not below `sequence`. Through the buffer:
    /// an element read by subscript here was a copy of the whole entry (its topic and payload
    /// retained and released), a dozen per acknowledgement.
    private func lowerBound(_ sequence: Int64) -> Int {
        entries.withUnsafeBufferPointer { buffer in
            var low = head, high = buffer.count
            while low < high {
                let mid = (low + high) / 2
                if buffer[mid].sequence < sequence { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }

    /// A fix produced while offline, or not acknowledged within `spillAfter`.
    private func isBacklog(_ entry: Entry, now: MonotonicInstant) -> Bool {
        entry.producedOffline || now - entry.enqueuedAt >= policy.spillAfter
    }

    /// Marks `indices` in flight as one publish: alone on its own topic (also a backlog fix
    /// when batches are 1), or as a batch on the backlog topic.
    private mutating func send(_ indices: [Int], as backlog: BacklogPolicy?, now: MonotonicInstant) -> Publication {
        for i in indices {
            entries[i].inflight = true
            entries[i].sentAt = now
        }
        inflightCount += indices.count
        inflightPublications += 1
        guard let backlog, backlog.batch > 1 else {
            let message = entries[indices[0]].message
            return Publication(topic: message.topic, payload: message.payload, sequences: [message.sequence])
        }
        var payload = backlog.batchHead
        for (n, i) in indices.enumerated() {
            if n > 0 { payload.append(UInt8(ascii: ",")) }
            payload += entries[i].message.payload
        }
        payload += [UInt8(ascii: "]"), UInt8(ascii: "}")]
        return Publication(topic: backlog.backlogTopic, payload: payload, sequences: indices.map { entries[$0].sequence })
    }

    /// After a reconnect: the newest fix (on `telemetryTopic`) still queued goes out first.
    public mutating func promoteNewestFix(telemetryTopic: String) {
        promotedSequence = entries[head...].last { !$0.acknowledged && $0.message.topic == telemetryTopic }?.message.sequence
    }

    /// The broker's PUBACK for a whole publish: every message it carried leaves the queue.
    public mutating func acknowledge(publication sequences: [Int64], now: MonotonicInstant) {
        if inflightPublications > 0 { inflightPublications -= 1 }
        for sequence in sequences { acknowledgeMessage(sequence, now: now) }
    }

    /// The broker's PUBACK for the single message `sequence`. Unknown sequences (already
    /// dropped) are ignored.
    public mutating func acknowledge(_ sequence: Int64, now: MonotonicInstant) {
        acknowledge(publication: [sequence], now: now)
    }

    private mutating func acknowledgeMessage(_ sequence: Int64, now: MonotonicInstant) {
        lastProgress = now
        guard let i = position(of: sequence), !entries[i].acknowledged else { return }
        if entries[i].inflight { inflightCount -= 1 }
        entries[i].inflight = false
        entries[i].acknowledged = true
        bytes -= entries[i].size
        count -= 1
        if entries[i].onDisk || entries[i].writing {
            pendingDeletes.append(sequence)
            expectWork(at: lastCommit)
        }
        trimFront()
    }

    /// The connection dropped: everything in flight will be sent again, in order.
    public mutating func connectionLost() {
        for i in head..<entries.count where entries[i].inflight { entries[i].inflight = false }
        inflightCount = 0
        inflightPublications = 0
        backlogCursor = 0
    }

    /// Messages are in flight and the broker has acknowledged nothing for `policy.ackTimeout`.
    public func isStalled(now: MonotonicInstant) -> Bool {
        inflightCount > 0 && now - lastProgress >= policy.ackTimeout
    }

    /// Due disk work for a batched commit: spilled messages and deletions, once per
    /// `commitInterval`. Empty when nothing is due.
    public mutating func due(now: MonotonicInstant) -> StoreWork {
        guard now - lastCommit >= policy.commitInterval else { return StoreWork() }
        lastCommit = now
        var work = StoreWork(delete: pendingDeletes)
        pendingDeletes = []
        workFrom = nil
        let stalled = isStalled(now: now)
        for i in head..<entries.count where !entries[i].acknowledged && !entries[i].onDisk && !entries[i].writing {
            if stalled || entries[i].producedOffline || now - entries[i].enqueuedAt >= policy.spillAfter {
                entries[i].writing = true
                work.insert.append(entries[i].message)
            } else {
                expectWork(at: entries[i].enqueuedAt + policy.spillAfter)
            }
        }
        return work
    }

    /// When `due` may next return work: never later than it would, possibly earlier (then it
    /// returns nothing and says again). nil: nothing waits for the disk.
    public var nextCommitAt: MonotonicInstant? {
        guard var at = workFrom else { return nil }
        // A broker that stops acknowledging makes everything not on disk a spill.
        if inflightCount > 0 { at = min(at, lastProgress + policy.ackTimeout) }
        return max(at, lastCommit + policy.commitInterval)
    }

    private mutating func expectWork(at instant: MonotonicInstant) {
        workFrom = min(workFrom ?? instant, instant)
    }

    /// Everything not yet on disk, for a clean shutdown.
    public mutating func flushAll() -> StoreWork {
        var work = StoreWork(delete: pendingDeletes)
        pendingDeletes = []
        workFrom = nil
        for i in head..<entries.count where !entries[i].acknowledged && !entries[i].onDisk && !entries[i].writing {
            entries[i].writing = true
            work.insert.append(entries[i].message)
        }
        return work
    }

    /// The store committed `work`.
    public mutating func committed(_ work: StoreWork) {
        for message in work.insert {
            if let i = position(of: message.sequence) {
                entries[i].writing = false
                entries[i].onDisk = true
            }
        }
    }

    /// The store could not commit `work` (disk full, I/O error): the messages stay in memory
    /// and are offered again at the next commit; deletions are retried too.
    public mutating func commitFailed(_ work: StoreWork) {
        for message in work.insert {
            if let i = position(of: message.sequence) { entries[i].writing = false }
        }
        pendingDeletes = work.delete + pendingDeletes
        if !work.isEmpty { expectWork(at: lastCommit) }
    }

    /// Deletions of acknowledged messages still to reach the disk. A store reopened in this run
    /// must not hand these back: the broker has them.
    public var acknowledgedNotYetDeleted: Set<Int64> { Set(pendingDeletes) }

    /// Only the deletions due, to be tried alone when a full disk refused a whole commit:
    /// a deletion needs little space and frees some.
    public mutating func takeDeletes() -> StoreWork {
        defer { pendingDeletes = [] }
        return StoreWork(delete: pendingDeletes)
    }

    /// The store could be used only now (it failed to open at start, or was reopened after an
    /// error), and holds `stored`. A row that is one of ours (same number, same message, on
    /// disk) stays as it is. Any other row is from an earlier run: it joins the end of the
    /// queue, renumbered after everything queued meanwhile, and the returned work moves it to
    /// its new number — except what this run already had acknowledged, which is only deleted.
    /// Whatever the queue believed on disk but the store does not hold is written again.
    /// `droppedBefore`: the store's drop count from earlier runs.
    public mutating func adopt(_ stored: [OutboundMessage], droppedBefore: Int = 0, now: MonotonicInstant) -> StoreWork {
        let skip = acknowledgedNotYetDeleted
        var work = StoreWork()
        var kept = Set<Int64>()
        droppedTotal += droppedBefore
        let start = max(nextSequence, (stored.map(\.sequence).max() ?? 0) + 1)
        var renumbered: [OutboundMessage] = []
        for message in stored.sorted(by: { $0.sequence < $1.sequence }) {
            if skip.contains(message.sequence) {
                work.delete.append(message.sequence)
                continue
            }
            if let i = position(of: message.sequence), !entries[i].acknowledged, entries[i].onDisk, entries[i].message == message {
                kept.insert(message.sequence)
                continue
            }
            work.delete.append(message.sequence)
            renumbered.append(message)
        }
        nextSequence = start
        pendingDeletes.removeAll { skip.contains($0) }
        // Entries below may no longer count as on disk; the next commit looks.
        expectWork(at: lastCommit)
        for i in head..<entries.count where !entries[i].acknowledged && !entries[i].writing {
            if entries[i].onDisk && !kept.contains(entries[i].sequence) { entries[i].onDisk = false }
            if !entries[i].onDisk { entries[i].producedOffline = true }
        }
        for message in renumbered {
            let moved = OutboundMessage(sequence: nextSequence, topic: message.topic, payload: message.payload)
            nextSequence += 1
            entries.append(Entry(message: moved, enqueuedAt: now, producedOffline: true, onDisk: false, writing: true))
            if isEvent(moved) { priority.append(moved.sequence) }
            bytes += moved.size
            count += 1
            work.insert.append(moved)
        }
        enforceBounds(&work)
        return work
    }

    public var hasUnreportedDrops: Bool { droppedUnreported > 0 }

    /// Drops since the last report, for a log line at most once a minute; nil if none.
    public mutating func takeDropReport() -> Int? {
        guard droppedUnreported > 0 else { return nil }
        defer { droppedUnreported = 0 }
        return droppedUnreported
    }

    /// When the oldest waiting message was queued (in this run).
    public var oldestEnqueuedAt: MonotonicInstant? {
        entries[head...].first { !$0.acknowledged }?.enqueuedAt
    }

    /// The messages still queued, oldest first (for tests and `queue stats`).
    public var pending: [OutboundMessage] {
        entries[head...].filter { !$0.acknowledged }.map(\.message)
    }

    private mutating func enforceBounds(_ work: inout StoreWork) {
        while count > 0 && (count > policy.maxMessages || bytes > policy.maxBytes) {
            guard let i = entries[head...].firstIndex(where: { !$0.acknowledged }) else { break }
            let entry = entries[i]
            if entry.inflight { inflightCount -= 1 }
            entries[i].acknowledged = true
            entries[i].inflight = false
            bytes -= entry.size
            count -= 1
            droppedTotal += 1
            droppedUnreported += 1
            if let w = work.insert.firstIndex(where: { $0.sequence == entry.message.sequence }) {
                work.insert.remove(at: w)
            } else if entry.onDisk || entry.writing {
                pendingDeletes.append(entry.message.sequence)
                expectWork(at: lastCommit)
            }
            trimFront()
        }
    }

    private mutating func trimFront() {
        while head < entries.count && entries[head].acknowledged { head += 1 }
        if head > 1024 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }

    private func position(of sequence: Int64) -> Int? {
        let i = lowerBound(sequence)
        return entries.withUnsafeBufferPointer { i < $0.count && $0[i].sequence == sequence } ? i : nil
    }
}
