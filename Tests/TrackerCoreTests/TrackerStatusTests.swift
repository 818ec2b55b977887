import Testing
@testable import TrackerCore

/// The status file is written when the status changes, so its ages are as of `writtenAt` and
/// its readers bring them to now.
@Suite struct TrackerStatusTests {
    func status() -> TrackerStatus {
        let fix = Fix(time: UTCTimestamp(millisecondsSinceEpoch: 1_764_000_000_000), mode: .threeD, latitude: 10, longitude: 10)
        var status = TrackerStatus(
            pid: 1, deviceId: "t", thing: nil, source: "s",
            mqtt: .init(endpoint: "e:8883", clientId: "t", connected: true,
                        queue: .init(depth: 2, bytes: 10, oldestAgeSeconds: 3.5, dropped: 0),
                        store: .init(durable: true), publishRate: .init(cap: 100, heldBack: 0)),
            lastFix: .init(ageSeconds: 1.2, fix: .init(fix), receivedAt: "2025-11-24T16:00:00.250Z"), zones: [:])
        status.certificate = .init(id: "c", notAfter: "2026-01-01T00:00:00.000Z", daysLeft: 30.5, renewedDaysBefore: 30, key: "file")
        status.writtenAt = "2025-11-24T16:00:01.450Z"
        return status
    }

    @Test func agedBringsTheFiguresToNow() {
        let aged = status().aged(to: UTCTimestamp(iso8601: "2025-11-25T16:00:11.450Z")!.millisecondsSinceEpoch)
        #expect(aged.lastFix?.ageSeconds == 86_411.2)
        #expect(aged.mqtt?.queue.oldestAgeSeconds == 86_413.5)
        #expect(aged.certificate?.daysLeft == 29.5)
        #expect(aged.mqtt?.queue.depth == 2, "counts are not ages")
        let early = status().aged(to: 0)
        #expect(early.lastFix?.ageSeconds == 1.2, "a clock behind the file's does not make ages negative")
        var old = status()
        old.writtenAt = nil
        #expect(old.aged(to: 1_900_000_000_000) == old, "an older writer's file is shown as it is")
    }

    @Test func onlyAgesAreLeftOutOfTheComparison() {
        var older = status()
        older.lastFix?.ageSeconds = 60
        older.mqtt?.queue.oldestAgeSeconds = 99
        older.certificate?.daysLeft = 2
        older.writtenAt = "2025-11-24T17:00:00.000Z"
        #expect(older.withoutAges == status().withoutAges)
        var moved = status()
        moved.mqtt?.queue.depth = 3
        #expect(moved.withoutAges != status().withoutAges)
        var emptied = status()
        emptied.mqtt?.queue.oldestAgeSeconds = nil
        #expect(emptied.withoutAges != status().withoutAges, "a queue that emptied is news")
    }

    @Test func theSummaryHoldsNoAge() {
        #expect(status().summary == "connected to e:8883 as t; queue 2; last fix at 16:00:00 UTC (3D)")
    }
}
