import Testing
import LocalCloud

/// localcloud holds devices to AWS IoT Core's limits, measured on Mosquitto's own log.
@Suite struct AWSLimitMeterTests {
    @Test func aPublishLineIsRead() {
        let line = "1795995877: Received PUBLISH from tracker_1 (d0, q1, r0, m7, 'trackers/tracker_1/backlog', ... (5120 bytes))"
        #expect(MosquittoPublishLine(line) == MosquittoPublishLine(second: 1_795_995_877, clientID: "tracker_1",
                                                                   topic: "trackers/tracker_1/backlog", size: 5120))
        #expect(MosquittoPublishLine("1795995877: Sending PUBACK to tracker_1 (m7, rc0)") == nil)
    }

    /// The 101st publish of a client in one second is reported, once; another client and the
    /// next second start again.
    @Test func moreThanAHundredInASecondIsThrottled() {
        var meter = AWSLimitMeter()
        func publish(_ client: String, _ second: Int64) -> [AWSLimitMeter.Violation] {
            meter.record(MosquittoPublishLine(second: second, clientID: client, topic: "gpsTopic", size: 90))
        }
        for _ in 0..<100 { #expect(publish("a", 10).isEmpty) }
        for _ in 0..<100 { #expect(publish("b", 10).isEmpty, "per connection") }
        #expect(publish("a", 10) == [.rate(clientID: "a", second: 10, publishes: 101, limit: 100)])
        #expect(publish("a", 10).isEmpty, "reported once per second")
        #expect(publish("a", 11).isEmpty)
    }

    @Test func oversizedPayloadsAndDeepTopicsAreRefused() {
        var meter = AWSLimitMeter()
        #expect(meter.record(MosquittoPublishLine(second: 1, clientID: "a", topic: "t", size: 131_072)).isEmpty)
        #expect(meter.record(MosquittoPublishLine(second: 1, clientID: "a", topic: "t", size: 131_073))
                == [.payload(clientID: "a", topic: "t", bytes: 131_073, limit: 131_072)])
        #expect(meter.record(MosquittoPublishLine(second: 1, clientID: "a", topic: "a/b/c/d/e/f/g/h", size: 1)).isEmpty, "7 slashes")
        #expect(meter.record(MosquittoPublishLine(second: 1, clientID: "a", topic: "a/b/c/d/e/f/g/h/i", size: 1)).count == 1)
        #expect(meter.record(MosquittoPublishLine(second: 1, clientID: "a", topic: "$aws/rules/r/a/b/c/d/e/f/g", size: 1)).isEmpty,
                "Basic Ingest is exempt")
    }
}

extension AWSLimitMeterTests {
    /// The limit is per connection: a tracker that reconnects within the second starts afresh.
    @Test func aNewConnectionStartsItsOwnCount() {
        var meter = AWSLimitMeter()
        let publish = MosquittoPublishLine(second: 5, clientID: "a", topic: "gpsTopic", size: 90)
        for _ in 0..<100 { _ = meter.record(publish) }
        meter.connected("a")
        for _ in 0..<100 { #expect(meter.record(publish).isEmpty) }
        #expect(meter.record(publish).count == 1)
    }
}
