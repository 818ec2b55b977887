import Testing
@testable import TrackerCore

@Suite struct OutboundQueueTests {
    let t0 = MonotonicInstant.now

    func policy(_ change: (inout QueuePolicy) -> Void = { _ in }) -> QueuePolicy {
        var p = QueuePolicy()
        p.maxInflight = 3
        change(&p)
        return p
    }

    func payload(_ n: Int) -> [UInt8] { Array("fix \(n)".utf8) }

    @Test func sendsInOrderWithABoundedWindowAndForgetsOnlyAcknowledged() {
        var queue = OutboundQueue(policy: policy(), now: t0)
        for n in 1...5 { #expect(queue.enqueue(topic: "gpsTopic", payload: payload(n), now: t0, connected: true).isEmpty) }
        #expect(queue.nextToSend(now: t0).map(\.sequence) == [1, 2, 3])
        #expect(queue.nextToSend(now: t0).isEmpty, "window full")
        queue.acknowledge(2, now: t0)
        #expect(queue.nextToSend(now: t0).map(\.sequence) == [4])
        queue.acknowledge(1, now: t0)
        queue.acknowledge(3, now: t0)
        #expect(queue.nextToSend(now: t0).map(\.sequence) == [5])
        #expect(queue.count == 2 && queue.pending.map(\.sequence) == [4, 5])
        queue.acknowledge(99, now: t0)
        #expect(queue.count == 2)
    }

    @Test func aLostConnectionResendsEverythingUnacknowledgedInOrder() {
        var queue = OutboundQueue(policy: policy(), now: t0)
        for n in 1...4 { _ = queue.enqueue(topic: "t", payload: payload(n), now: t0, connected: true) }
        _ = queue.nextToSend(now: t0)
        queue.acknowledge(1, now: t0)
        queue.connectionLost()
        #expect(queue.inflightCount == 0)
        #expect(queue.nextToSend(now: t0).map(\.sequence) == [2, 3, 4])
    }

    @Test func batchedSpillsOnlyTheSlowAndTheOfflineOncePerInterval() {
        // A patient broker: the stall rule (below) stays out of this test.
        var queue = OutboundQueue(policy: policy { $0.ackTimeout = .seconds(60) }, now: t0)
        _ = queue.enqueue(topic: "t", payload: payload(1), now: t0, connected: true)
        _ = queue.enqueue(topic: "t", payload: payload(2), now: t0, connected: false)
        _ = queue.enqueue(topic: "t", payload: payload(3), now: t0 + .seconds(4), connected: true)
        _ = queue.nextToSend(now: t0)
        #expect(queue.due(now: t0 + .seconds(4)).isEmpty, "commit interval not reached")
        let work = queue.due(now: t0 + .seconds(5))
        #expect(work.insert.map(\.sequence) == [1, 2], "1 unacknowledged for 5 s, 2 produced offline; 3 is young")
        queue.committed(work)
        queue.acknowledge(1, now: t0)
        queue.acknowledge(3, now: t0)
        let next = queue.due(now: t0 + .seconds(10))
        #expect(next.delete == [1], "an acknowledged message leaves the disk; 3 never reached it")
        #expect(next.insert.isEmpty)
    }

    @Test func aFailedCommitIsRetried() {
        var queue = OutboundQueue(policy: policy(), now: t0)
        _ = queue.enqueue(topic: "t", payload: payload(1), now: t0, connected: false)
        let work = queue.due(now: t0 + .seconds(5))
        queue.commitFailed(work)
        #expect(queue.due(now: t0 + .seconds(10)).insert.map(\.sequence) == [1])
    }

    @Test func everyMessageCommitsEachOnItsOwn() {
        var queue = OutboundQueue(policy: policy { $0.durability = .everyMessage }, now: t0)
        let work = queue.enqueue(topic: "t", payload: payload(1), now: t0, connected: true)
        #expect(work.insert.map(\.sequence) == [1])
        queue.committed(work)
        _ = queue.nextToSend(now: t0)
        queue.acknowledge(1, now: t0)
        #expect(queue.due(now: t0 + .seconds(5)).delete == [1])
    }

    @Test func boundsDropTheOldestAndCountThem() {
        var queue = OutboundQueue(policy: policy { $0.maxMessages = 1000 }, now: t0)
        for n in 1...5000 { _ = queue.enqueue(topic: "t", payload: payload(n), now: t0, connected: false) }
        #expect(queue.count == 1000)
        #expect(queue.pending.first?.sequence == 4001 && queue.pending.last?.sequence == 5000)
        #expect(queue.droppedTotal == 4000)
        #expect(queue.takeDropReport() == 4000)
        #expect(queue.takeDropReport() == nil)

        var small = OutboundQueue(policy: policy { $0.maxBytes = 30 }, now: t0)
        for n in 1...10 { _ = small.enqueue(topic: "t", payload: payload(n), now: t0, connected: true) }
        #expect(small.bytes <= 30 && small.count == 4)
    }

    @Test func droppingWhatIsOnDiskDeletesIt() {
        var queue = OutboundQueue(policy: policy { $0.maxMessages = 2 },
                                  restored: [OutboundMessage(sequence: 7, topic: "t", payload: [1]),
                                             OutboundMessage(sequence: 8, topic: "t", payload: [2])], now: t0)
        #expect(queue.nextToSend(now: t0).map(\.sequence) == [7, 8], "what was on disk goes first")
        _ = queue.enqueue(topic: "t", payload: [3], now: t0, connected: true)
        #expect(queue.pending.map(\.sequence) == [8, 9])
        #expect(queue.inflightCount == 1)
        #expect(queue.due(now: t0 + .seconds(5)).delete == [7])
    }

    /// A hung broker: connected, messages in flight, no PUBACK. After `ackTimeout` the queue
    /// spills like offline, at the next commit, instead of waiting `spillAfter`.
    @Test func aBrokerThatStopsAcknowledgingCountsAsOfflineForSpilling() {
        var queue = OutboundQueue(policy: policy { $0.spillAfter = .seconds(60); $0.commitInterval = .seconds(1) }, now: t0)
        _ = queue.enqueue(topic: "t", payload: payload(1), now: t0, connected: true)
        _ = queue.nextToSend(now: t0)
        #expect(!queue.isStalled(now: t0 + .milliseconds(1_999)))
        #expect(queue.due(now: t0 + .seconds(1)).insert.isEmpty, "acknowledgements may still come")
        #expect(queue.isStalled(now: t0 + .seconds(2)))
        _ = queue.enqueue(topic: "t", payload: payload(2), now: t0 + .seconds(2), connected: true)
        #expect(queue.due(now: t0 + .seconds(2)).insert.map(\.sequence) == [1, 2])

        // A PUBACK is progress: the link is healthy again and spill_after applies once more.
        queue.acknowledge(1, now: t0 + .seconds(3))
        #expect(!queue.isStalled(now: t0 + .seconds(3)))
        _ = queue.enqueue(topic: "t", payload: payload(3), now: t0 + .seconds(3), connected: true)
        #expect(queue.due(now: t0 + .seconds(4)).insert.isEmpty)
    }

    @Test func anIdleWindowIsNotAStall() {
        var queue = OutboundQueue(policy: policy(), now: t0)
        #expect(!queue.isStalled(now: t0 + .seconds(100)))
        _ = queue.enqueue(topic: "t", payload: payload(1), now: t0 + .seconds(100), connected: true)
        _ = queue.nextToSend(now: t0 + .seconds(100))
        #expect(!queue.isStalled(now: t0 + .seconds(101)), "the wait starts when the window fills, not at the last PUBACK")
        #expect(queue.isStalled(now: t0 + .seconds(102)))
    }

    @Test func theDropCountCarriesOverFromTheStore() {
        var queue = OutboundQueue(policy: policy { $0.maxMessages = 1 }, droppedBefore: 40, now: t0)
        for n in 1...3 { _ = queue.enqueue(topic: "t", payload: payload(n), now: t0, connected: false) }
        #expect(queue.droppedTotal == 42)
        #expect(queue.takeDropReport() == 2)
    }

    /// A store that could be opened only later in the run: what it held joins the queue
    /// renumbered after this run's messages, and what this run acknowledged is not sent again.
    @Test func aLateStoreIsAdoptedWithoutResendingWhatWasAcknowledged() {
        var queue = OutboundQueue(policy: policy(), now: t0)
        for n in 1...3 { _ = queue.enqueue(topic: "t", payload: payload(n), now: t0, connected: true) }
        let stored = (1...4).map { OutboundMessage(sequence: Int64($0), topic: "old", payload: Array("old \($0)".utf8)) }
        let work = queue.adopt(stored, now: t0)
        #expect(work.delete == [1, 2, 3, 4])
        #expect(work.insert.map(\.sequence) == [5, 6, 7, 8])
        #expect(work.insert.map(\.payload) == stored.map(\.payload))
        queue.committed(work)
        #expect(queue.pending.map(\.sequence) == [1, 2, 3, 5, 6, 7, 8])
        #expect(queue.due(now: t0 + .seconds(5)).insert.map(\.sequence) == [1, 2, 3], "this run's messages follow them to disk")

        // Acknowledged in this run while the store was down, its deletion still pending: a row
        // with the same number that the late store hands back is the same message.
        var second = OutboundQueue(policy: policy(), restored: [OutboundMessage(sequence: 9, topic: "t", payload: [9])], now: t0)
        _ = second.nextToSend(now: t0)
        second.acknowledge(9, now: t0)
        #expect(second.acknowledgedNotYetDeleted == [9])
        let again = second.adopt([OutboundMessage(sequence: 9, topic: "t", payload: [9]),
                                  OutboundMessage(sequence: 10, topic: "t", payload: [10])], now: t0)
        #expect(again.delete == [9, 10])
        #expect(again.insert.map(\.payload) == [[10]])
        #expect(second.pending.map(\.payload) == [[10]])
    }

    @Test func deletionsCanBeTakenAlone() {
        var queue = OutboundQueue(policy: policy(), restored: [OutboundMessage(sequence: 1, topic: "t", payload: [1])], now: t0)
        _ = queue.enqueue(topic: "t", payload: payload(2), now: t0, connected: false)
        _ = queue.nextToSend(now: t0)
        queue.acknowledge(1, now: t0)
        let work = queue.due(now: t0 + .seconds(5))
        #expect(work.delete == [1] && work.insert.map(\.sequence) == [2])
        queue.commitFailed(work)
        #expect(queue.takeDeletes() == StoreWork(delete: [1]))
        #expect(queue.takeDeletes().isEmpty)
    }
}

extension OutboundQueueTests {
    /// The same store reopened in the run (after an I/O error): its rows are our own messages,
    /// kept as they are; a store that came back empty (moved aside) gets them written again.
    @Test func aReopenedStoreKeepsOurOwnRowsAndRewritesMissingOnes() {
        let restored = (1...3).map { OutboundMessage(sequence: Int64($0), topic: "t", payload: [UInt8($0)]) }
        var queue = OutboundQueue(policy: policy(), restored: restored, now: t0)
        let same = queue.adopt(restored, now: t0)
        #expect(same.isEmpty)
        #expect(queue.pending.map(\.sequence) == [1, 2, 3])
        #expect(queue.due(now: t0 + .seconds(5)).insert.isEmpty, "still on disk")

        let fresh = queue.adopt([], now: t0)
        #expect(fresh.isEmpty)
        #expect(queue.due(now: t0 + .seconds(10)).insert.map(\.sequence) == [1, 2, 3], "the new file must hold them again")
    }
}

extension OutboundQueueTests {
    /// The daemon asks `due` only at `nextCommitAt`, so that must never be late: through 20,000
    /// random operations (enqueues online and offline, sends, acknowledgements, lost
    /// connections, commits that fail, a store that comes back empty), whenever `due` has
    /// work, `nextCommitAt` said so beforehand, no later than now.
    @Test func theNextCommitIsNeverLate() {
        var random = SplitMix64(seed: 17)
        for policyKind in 0..<2 {
            var queue = OutboundQueue(policy: policy { $0.maxInflight = 4; $0.maxMessages = 40; $0.durability = .batched
                                                         if policyKind == 1 { $0.ackTimeout = .seconds(30) } }, now: t0)
            var now = t0
            var inflight: [Int64] = []
            var connected = true
            var worked = 0
            for step in 0..<10_000 {
                now += .milliseconds(Int(random.next() % 3000))
                switch random.next() % 10 {
                case 0, 1, 2: _ = queue.enqueue(topic: "t", payload: payload(step), now: now, connected: connected)
                case 3: if connected { inflight += queue.nextToSend(now: now).map(\.sequence) }
                case 4, 5:
                    if !inflight.isEmpty { queue.acknowledge(inflight.remove(at: Int(random.next() % UInt64(inflight.count))), now: now) }
                case 6:
                    connected.toggle()
                    if !connected { queue.connectionLost(); inflight = [] }
                case 7: if random.next() % 50 == 0 { _ = queue.adopt([], now: now) }
                default:
                    let promised = queue.nextCommitAt
                    let work = queue.due(now: now)
                    if !work.isEmpty {
                        worked += 1
                        #expect(promised.map { $0 <= now } ?? false, "step \(step): work due at \(now) was promised for \(String(describing: promised))")
                    }
                    if random.next() % 4 == 0 { queue.commitFailed(work) } else { queue.committed(work) }
                }
            }
            #expect(worked > 500, "the walk reached the disk often enough to mean something: \(worked)")
        }
    }

    @Test func anEmptyQueueAsksForNoCommit() {
        var queue = OutboundQueue(policy: policy(), now: t0)
        #expect(queue.nextCommitAt == nil)
        _ = queue.enqueue(topic: "t", payload: payload(1), now: t0, connected: true)
        #expect(queue.nextCommitAt == t0 + .seconds(5), "a live message spills after spill_after_s if not acknowledged")
        _ = queue.nextToSend(now: t0)
        queue.acknowledge(1, now: t0 + .milliseconds(100))
        _ = queue.due(now: t0 + .seconds(5))
        #expect(queue.nextCommitAt == nil, "acknowledged before it reached the disk: nothing waits")
    }
}
