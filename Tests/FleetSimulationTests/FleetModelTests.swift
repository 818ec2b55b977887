import Testing
@testable import FleetSimulation
import TrackerCore

/// The fleet model on small fleets, where its answers can be reasoned out.
@Suite struct FleetModelTests {
    static func scenario(trackers: Int = 400, outage: Double = 60, limit: Int = 20, jitter: Bool = true) -> FleetScenario {
        var scenario = FleetScenario()
        scenario.trackers = trackers
        scenario.outageSeconds = outage
        scenario.connectLimit = limit
        scenario.reconnectMaxSeconds = 30
        scenario.reportIntervalSeconds = 10
        scenario.jitter = jitter
        return scenario
    }

    @Test func everyAttemptIsAccountedForAndEveryTrackerComesBack() {
        let run = FleetModel.run(Self.scenario())
        #expect(run.connects.reduce(0, +) == 400)
        #expect(run.attempts.reduce(0, +) == run.totalAttempts)
        #expect(run.refused.reduce(0, +) + run.throttled.reduce(0, +) + 400 == run.totalAttempts)
        #expect(run.refused[60...].allSatisfy { $0 == 0 } && run.connects[..<60].allSatisfy { $0 == 0 }, "nothing gets in while the broker is away")
        // Accepted requests per second never exceed the limit (a request is answered a round trip later, in the same second or the next).
        for second in 60..<run.attempts.count {
            #expect(run.attempts[second] - run.throttled[second] <= 20, "second \(second)")
        }
        // Connected at t ≥ 60 s: 6 or more fixes queued, a newest fix and one batch each.
        #expect(run.totalPublishes == 400 * 2)
        #expect(run.allConnectedSeconds >= 60 && run.allDrainedSeconds >= run.allConnectedSeconds)
        #expect(run.publishLimitBreaches == 0)
    }

    /// Without jitter every tracker draws the same delays: the whole fleet tries just before 1, 3,
    /// 7 and 15 s (the windows of trackerd's Backoff add up; a draw is [0, window)), and once the
    /// broker is back, in one second.
    @Test func withoutJitterTheFleetMovesAsOne() {
        let run = FleetModel.run(Self.scenario(jitter: false))
        for second in [0, 2, 6, 14] { #expect(run.attempts[second] == 400, "second \(second)") }
        #expect(run.peakAttempts == 400)
        let jittered = FleetModel.run(Self.scenario())
        #expect(jittered.peakAttempts * 10 <= run.peakAttempts, "jitter: \(jittered.peakAttempts), none: \(run.peakAttempts)")
        #expect(jittered.allConnectedSeconds < run.allConnectedSeconds)
    }

    @Test func aRunIsItsSeed() {
        var scenario = Self.scenario()
        let first = FleetModel.run(scenario), second = FleetModel.run(scenario)
        #expect(first.attempts == second.attempts && first.connects == second.connects)
        scenario.seed = 2
        #expect(FleetModel.run(scenario).attempts != first.attempts)
    }

    /// A long outage with a fix a second: the drain is paced by trackerd's PublishRateCap and
    /// never breaks the broker's per-connection limit; a tracker allowed more would.
    @Test func drainsArePacedByThePublishCap() {
        var scenario = Self.scenario(trackers: 20, outage: 3600, limit: 500)
        scenario.reportIntervalSeconds = 1
        scenario.backlogBatch = 10
        let run = FleetModel.run(scenario)
        // About 3,600 fixes queued each: 1 + 360 publishes, four windows of the cap.
        #expect(run.totalPublishes >= 20 * 361)
        #expect(run.publishLimitBreaches == 0)
        #expect(run.allDrainedSeconds - run.allConnectedSeconds >= 3 * 1.05)
        scenario.maxPublishRate = 200
        #expect(FleetModel.run(scenario).publishLimitBreaches > 0)
    }

    /// The limit holds after the first wave only while the backoff cap spreads the fleet wide
    /// enough: about 2 × trackers / limit seconds.
    @Test func theCapMustFitTheFleet() {
        var small = Self.scenario(trackers: 400, outage: 120, limit: 20)
        small.reconnectMaxSeconds = 60
        #expect(FleetModel.run(small).secondsAboveLimitAfterFirstWave == 0)
        var large = small
        large.trackers = 4000
        #expect(FleetModel.run(large).secondsAboveLimitAfterFirstWave > 0)
    }
}
