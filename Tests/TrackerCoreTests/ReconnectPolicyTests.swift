import Testing
import TestSupport
@testable import TrackerCore

/// The decisions of the one reconnect loop that gpsd, the serial reader and MQTT share.
@Suite struct ReconnectPolicyTests {
    let start = MonotonicInstant.now

    /// The first failure is worth a warning, the ones after it are not; windows double.
    @Test func theFirstFailureIsToldAndTheWindowGrows() {
        var policy = ReconnectPolicy(backoff: Backoff(base: .seconds(1), cap: .seconds(8)))
        var top = ScriptedGenerator([UInt64.max])
        let first = policy.after(.couldNotOpen(reason: "refused"), now: start, using: &top)
        #expect(first.event == .unavailable(reason: "refused"))
        #expect(first.delay < .seconds(1) && first.delay > .milliseconds(999))
        let second = policy.after(.couldNotOpen(reason: "refused"), now: start, using: &top)
        #expect(second.event == .stillUnavailable(reason: "refused"))
        #expect(second.delay > .milliseconds(1999), "the window doubled")
        for _ in 0..<5 { _ = policy.after(.couldNotOpen(reason: "refused"), now: start, using: &top) }
        #expect(policy.backoff.window == .seconds(8), "capped")
    }

    /// A session that proved itself for `stableAfter` starts the next outage from the base delay.
    @Test func aStableSessionResetsTheBackoff() {
        var policy = ReconnectPolicy(backoff: Backoff(base: .seconds(1), cap: .seconds(120)), stableAfter: .seconds(60))
        var random = SeededGenerator(seed: 3)
        for _ in 0..<4 { _ = policy.after(.couldNotOpen(reason: "x"), now: start, using: &random) }
        #expect(policy.backoff.attempt == 4)
        let lost = policy.after(.ended(reason: "reset", establishedAt: start), now: start + .seconds(61), using: &random)
        #expect(lost.event == .lost(reason: "reset", established: true))
        #expect(policy.backoff.attempt == 1, "reset, then one delay drawn from the base window")
        #expect(lost.delay < .seconds(1))
    }

    /// A broker that accepts and drops at once (a second client with our id) does not reset it.
    @Test func aShortSessionKeepsBackingOff() {
        var policy = ReconnectPolicy(backoff: Backoff(base: .seconds(1), cap: .seconds(120)), stableAfter: .seconds(60))
        var random = SeededGenerator(seed: 3)
        for _ in 0..<4 {
            _ = policy.after(.ended(reason: "kicked", establishedAt: start), now: start + .seconds(1), using: &random)
        }
        #expect(policy.backoff.attempt == 4)
        let never = policy.after(.ended(reason: "TLS", establishedAt: nil), now: start + .seconds(100), using: &random)
        #expect(never.event == .lost(reason: "TLS", established: false))
        #expect(policy.backoff.attempt == 5)
    }

    /// With `stableAfter` zero (the GPS readers), any session that delivered data resets it.
    @Test func dataProvesAReceiver() {
        var policy = ReconnectPolicy(backoff: Backoff(base: .milliseconds(500), cap: .seconds(10)))
        var random = SeededGenerator(seed: 5)
        for _ in 0..<3 { _ = policy.after(.couldNotOpen(reason: "ENOENT"), now: start, using: &random) }
        _ = policy.after(.ended(reason: "EIO", establishedAt: start), now: start, using: &random)
        #expect(policy.backoff.attempt == 1)
        let after = policy.after(.couldNotOpen(reason: "ENOENT"), now: start, using: &random)
        #expect(after.event == .stillUnavailable(reason: "ENOENT"), "the loss was told; the reopen failures are not news")
    }
}
