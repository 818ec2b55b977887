import Testing
import TestSupport
@testable import TrackerCore

@Suite struct QueueStorageHealthTests {
    let t0 = MonotonicInstant.now

    /// One report when memory-only starts, none per retry, one when it ends; the next open is
    /// due after a full-jitter delay that grows until a success resets it.
    @Test func memoryOnlyIsReportedOnceAndRetriedWithBackoff() {
        var health = QueueStorageHealth(retry: Backoff(base: .seconds(1), cap: .seconds(60)))
        var random = SeededGenerator(seed: 7)
        #expect(health.isDurable && health.openIsDue(now: t0))
        #expect(health.failed("disk full", wallMilliseconds: 1_000, now: t0, random: &random))
        #expect(health.state == .memoryOnly(since: 1_000, reason: "disk full"))
        #expect(!health.openIsDue(now: t0), "not again at once")
        #expect(health.openIsDue(now: t0 + .seconds(1)), "within the first window (1 s)")
        #expect(!health.failed("still full", wallMilliseconds: 2_000, now: t0 + .seconds(1), random: &random))
        #expect(health.state == .memoryOnly(since: 1_000, reason: "disk full"), "since the first failure")
        #expect(health.openIsDue(now: t0 + .seconds(3)), "within the second window (2 s)")
        let ended = health.succeeded()
        #expect(ended?.since == 1_000 && ended?.reason == "disk full")
        #expect(health.isDurable && health.succeeded() == nil)
    }
}
