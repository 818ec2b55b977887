import Testing
import TestSupport
@testable import TrackerCore

@Suite struct BackoffTests {
    @Test func theWindowDoublesUpToTheCap() {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(120))
        var windows: [Duration] = []
        var random = SeededGenerator(seed: 1)
        for _ in 0..<10 {
            windows.append(backoff.window)
            _ = backoff.nextDelay(using: &random)
        }
        #expect(windows == [1, 2, 4, 8, 16, 32, 64, 120, 120, 120].map { .seconds($0) })
    }

    /// With an injected random source the delays are exact: random(0, window).
    @Test func delaysAreFullJitterOverTheWindow() {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(120))
        var low = ScriptedGenerator([0])
        #expect(backoff.nextDelay(using: &low) == .zero)
        var half = ScriptedGenerator([1 << 63])
        #expect(backoff.nextDelay(using: &half) == .seconds(1), "half of the 2 s window")
        var quarter = ScriptedGenerator([1 << 62])
        #expect(backoff.nextDelay(using: &quarter) == .seconds(1), "a quarter of the 4 s window")
        var top = ScriptedGenerator([UInt64.max])
        let nearlyEight = backoff.nextDelay(using: &top)
        #expect(nearlyEight < .seconds(8) && nearlyEight > .milliseconds(7999))
        backoff.reset()
        #expect(backoff.attempt == 0)
        #expect(backoff.nextDelay(using: &half) == .milliseconds(500))
    }

    @Test func delaysStayInsideTheirWindowsAndSpreadOut() {
        var random = SeededGenerator(seed: 42)
        var firstDelays: [Duration] = []
        for _ in 0..<1000 {
            var backoff = Backoff(base: .seconds(1), cap: .seconds(120))
            for attempt in 0..<12 {
                let window = backoff.window
                let delay = backoff.nextDelay(using: &random)
                #expect(delay >= .zero && delay < window)
                if attempt == 5 { firstDelays.append(delay) }
            }
        }
        // A thousand trackers retrying the 6th time (window 32 s) land all over it, not together.
        let buckets = Set(firstDelays.map { Int($0.seconds / 4) })
        #expect(buckets.count == 8)
    }

    @Test func noOverflowAfterManyAttempts() {
        var backoff = Backoff(base: .milliseconds(500), cap: .seconds(10))
        var random = SeededGenerator(seed: 3)
        for _ in 0..<500 { _ = backoff.nextDelay(using: &random) }
        #expect(backoff.window == .seconds(10))
    }
}
