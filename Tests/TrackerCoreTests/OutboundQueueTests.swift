import Testing
@testable import TrackerCore

@Suite struct OutboundQueueTests {
    let t0 = ContinuousClock.now

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
        #expect(queue.nextToSend().map(\.sequence) == [1, 2, 3])
        #expect(queue.nextToSend().isEmpty, "window full")
        queue.acknowledge(2)
        #expect(queue.nextToSend().map(\.sequence) == [4])
        queue.acknowledge(1)
        queue.acknowledge(3)
        #expect(queue.nextToSend().map(\.sequence) == [5])
        #expect(queue.count == 2 && queue.pending.map(\.sequence) == [4, 5])
        queue.acknowledge(99)
        #expect(queue.count == 2)
    }

    @Test func aLostConnectionResendsEverythingUnacknowledgedInOrder() {
        var queue = OutboundQueue(policy: policy(), now: t0)
        for n in 1...4 { _ = queue.enqueue(topic: "t", payload: payload(n), now: t0, connected: true) }
        _ = queue.nextToSend()
        queue.acknowledge(1)
        queue.connectionLost()
        #expect(queue.inflightCount == 0)
        #expect(queue.nextToSend().map(\.sequence) == [2, 3, 4])
    }

    @Test func batchedSpillsOnlyTheSlowAndTheOfflineOncePerInterval() {
        var queue = OutboundQueue(policy: policy(), now: t0)
        _ = queue.enqueue(topic: "t", payload: payload(1), now: t0, connected: true)
        _ = queue.enqueue(topic: "t", payload: payload(2), now: t0, connected: false)
        _ = queue.enqueue(topic: "t", payload: payload(3), now: t0 + .seconds(4), connected: true)
        _ = queue.nextToSend()
        #expect(queue.due(now: t0 + .seconds(4)).isEmpty, "commit interval not reached")
        let work = queue.due(now: t0 + .seconds(5))
        #expect(work.insert.map(\.sequence) == [1, 2], "1 unacknowledged for 5 s, 2 produced offline; 3 is young")
        queue.committed(work)
        queue.acknowledge(1)
        queue.acknowledge(3)
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
        _ = queue.nextToSend()
        queue.acknowledge(1)
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
        #expect(queue.nextToSend().map(\.sequence) == [7, 8], "what was on disk goes first")
        _ = queue.enqueue(topic: "t", payload: [3], now: t0, connected: true)
        #expect(queue.pending.map(\.sequence) == [8, 9])
        #expect(queue.inflightCount == 1)
        #expect(queue.due(now: t0 + .seconds(5)).delete == [7])
    }
}
