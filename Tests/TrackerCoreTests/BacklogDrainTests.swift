import Foundation
import Testing
import TestSupport
@testable import TrackerCore

/// After an outage: the publish-rate cap, the newest fix first, events before history, the
/// backlog in batches.
@Suite struct BacklogDrainTests {
    let t0 = MonotonicInstant.now

    // MARK: the cap

    @Test func theCapAllowsNoBurstAboveTheRateAndNoWindowAboveIt() {
        var cap = PublishRateCap(rate: 100)
        #expect(cap.available(now: t0) == 100, "a burst of at most the rate")
        var random = SeededGenerator(seed: 11)
        var sent: [MonotonicInstant] = []
        var now = t0
        for _ in 0..<5_000 {
            now += .milliseconds(Int64.random(in: 0...7, using: &random))
            let demand = Int.random(in: 0...30, using: &random)
            let n = min(demand, cap.available(now: now))
            cap.spend(n, now: now)
            sent += Array(repeating: now, count: n)
        }
        let full = 100 * (t0.duration(to: now) / cap.window)
        #expect(Double(sent.count) > full * 0.95, "the cap lets the rate through: \(sent.count) of \(full) in \(t0.duration(to: now))")
        var worst = 0
        var low = 0
        for high in sent.indices {
            while sent[high] - sent[low] >= cap.window { low += 1 }
            worst = max(worst, high - low + 1)
        }
        #expect(worst == 100, "no window of 1.05 s holds more than 100 (worst \(worst))")
    }

    @Test func anExhaustedCapSaysWhenTheNextTokenComesBack() {
        var cap = PublishRateCap(rate: 3, window: .seconds(1))
        #expect(cap.nextToken(now: t0) == nil)
        cap.spend(2, now: t0)
        cap.spend(1, now: t0 + .milliseconds(300))
        #expect(cap.available(now: t0 + .milliseconds(500)) == 0)
        #expect(cap.nextToken(now: t0 + .milliseconds(500)) == t0 + .seconds(1))
        #expect(cap.available(now: t0 + .seconds(1)) == 2)
        #expect(cap.available(now: t0 + .milliseconds(1300)) == 3)
        let uncapped = PublishRateCap(rate: 0)
        #expect(uncapped.available(now: t0) == .max && uncapped.nextToken(now: t0) == nil)
    }

    // MARK: the queue's lanes

    let policy = BacklogPolicy(telemetryTopic: "gpsTopic", backlogTopic: "trackers/t/backlog", batch: 4,
                               maxPayloadBytes: 131_072, deviceID: "t")

    func fix(_ n: Int) -> [UInt8] { Array(#"{"gpsDeviceID":"t","n":\#(n)}"#.utf8) }

    /// Ten fixes and an event made offline: the newest fix alone, the event, then the backlog
    /// oldest first in batches of four, each a JSON document of gpsInput objects.
    @Test func newestFixFirstThenEventsThenTheBacklogInBatches() throws {
        var queue = OutboundQueue(policy: QueuePolicy(), now: t0, telemetryTopic: "gpsTopic")
        for n in 1...10 {
            _ = queue.enqueue(topic: "gpsTopic", payload: fix(n), now: t0, connected: false)
            if n == 5 { _ = queue.enqueue(topic: "trackers/t/geofence", payload: Array(#"{"event":"OnEnter"}"#.utf8), now: t0, connected: false) }
        }
        queue.promoteNewestFix(telemetryTopic: "gpsTopic")
        let out = queue.nextPublications(now: t0, limit: 100, backlog: policy)
        #expect(out.map(\.topic) == ["gpsTopic", "trackers/t/geofence"] + Array(repeating: "trackers/t/backlog", count: 3))
        #expect(out[0].payload == fix(10))
        #expect(out.dropFirst(2).map(\.sequences.count) == [4, 4, 1])
        let batch = try JSONSerialization.jsonObject(with: Data(out[2].payload)) as? [String: Any]
        #expect(batch?["deviceId"] as? String == "t")
        #expect((batch?["fixes"] as? [[String: Any]])?.map { $0["n"] as? Int } == [1, 2, 3, 4])
        #expect(out[4].payload == Array(#"{"deviceId":"t","fixes":[{"gpsDeviceID":"t","n":9}]}"#.utf8))
        for publication in out { queue.acknowledge(publication: publication.sequences, now: t0) }
        #expect(queue.count == 0 && queue.inflightPublications == 0 && queue.inflightCount == 0)
    }

    @Test func aBatchNeverExceedsTheMaximumPayload() {
        var small = policy
        small.batch = 50
        small.maxPayloadBytes = 100
        var queue = OutboundQueue(policy: QueuePolicy(), now: t0, telemetryTopic: "gpsTopic")
        for n in 1...9 { _ = queue.enqueue(topic: "gpsTopic", payload: fix(n), now: t0, connected: false) }
        let out = queue.nextPublications(now: t0, limit: 100, backlog: small)
        #expect(out.allSatisfy { $0.payload.count <= 100 }, "\(out.map(\.payload.count))")
        #expect(out.flatMap(\.sequences) == Array(1...9), "all of them, in order")
        #expect(out.count == 5)
    }

    /// While the backlog drains, what is made now goes ahead of it, and a quarter of the window
    /// stays free for it.
    @Test func liveMessagesOvertakeTheBacklog() {
        var limits = QueuePolicy()
        limits.maxInflight = 4
        var one = policy
        one.batch = 1
        var queue = OutboundQueue(policy: limits, now: t0, telemetryTopic: "gpsTopic")
        for n in 1...20 { _ = queue.enqueue(topic: "gpsTopic", payload: fix(n), now: t0, connected: false) }
        let first = queue.nextPublications(now: t0, limit: 100, backlog: one)
        #expect(first.flatMap(\.sequences) == [1, 2, 3], "the backlog leaves one place of four")
        _ = queue.enqueue(topic: "gpsTopic", payload: fix(21), now: t0 + .seconds(1), connected: true)
        let live = queue.nextPublications(now: t0 + .seconds(1), limit: 100, backlog: one)
        #expect(live.flatMap(\.sequences) == [21], "the live fix takes the free place")
        queue.acknowledge(publication: [1], now: t0 + .seconds(1))
        queue.acknowledge(publication: [2], now: t0 + .seconds(1))
        #expect(queue.nextPublications(now: t0 + .seconds(1), limit: 1, backlog: one).flatMap(\.sequences) == [4],
                "the backlog again, within the cap's one token")
    }

    /// One per message, as before, when the batch is 1: backlog fixes on the telemetry topic.
    @Test func aBatchOfOneSendsEachFixOnItsOwn() {
        var one = policy
        one.batch = 1
        var queue = OutboundQueue(policy: QueuePolicy(), now: t0, telemetryTopic: "gpsTopic")
        for n in 1...3 { _ = queue.enqueue(topic: "gpsTopic", payload: fix(n), now: t0, connected: false) }
        let out = queue.nextPublications(now: t0, limit: 100, backlog: one)
        #expect(out.map(\.topic) == ["gpsTopic", "gpsTopic", "gpsTopic"])
        #expect(out.map(\.payload) == [fix(1), fix(2), fix(3)])
    }

    /// A fix not acknowledged within spill_after becomes backlog; a fresh one is live.
    @Test func aFixNotAcknowledgedInTimeJoinsTheBacklog() {
        var queue = OutboundQueue(policy: QueuePolicy(), now: t0, telemetryTopic: "gpsTopic")
        _ = queue.enqueue(topic: "gpsTopic", payload: fix(1), now: t0, connected: true)
        _ = queue.enqueue(topic: "gpsTopic", payload: fix(2), now: t0 + .seconds(6), connected: true)
        let out = queue.nextPublications(now: t0 + .seconds(6), limit: 100, backlog: policy)
        #expect(out.map(\.topic) == ["gpsTopic", "trackers/t/backlog"])
        #expect(out.map(\.sequences) == [[2], [1]])
    }
}
