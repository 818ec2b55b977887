import Dispatch
import Testing
@testable import FleetSimulation
import TrackerCore

/// The fleet model on small fleets, where its answers can be reasoned out.
@Suite struct FleetModelTests {
    /// A model run on a Dispatch thread: seconds of arithmetic on the test runner's cooperative
    /// threads (two on this machine) would starve the suites running beside it, whose waits
    /// have deadlines.
    static func run(_ scenario: FleetScenario) async -> FleetRun {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: FleetModel.run(scenario)) }
        }
    }

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

    @Test func everyAttemptIsAccountedForAndEveryTrackerComesBack() async {
        let run = await Self.run(Self.scenario())
        #expect(run.connects.reduce(0, +) == 400)
        #expect(run.attempts.reduce(0, +) == run.totalAttempts)
        #expect(run.refused.reduce(0, +) + run.throttled.reduce(0, +) + 400 == run.totalAttempts)
        #expect(run.refused[60...].allSatisfy { $0 == 0 } && run.connects[..<60].allSatisfy { $0 == 0 }, "nothing gets in while the broker is away")
        // Accepted requests per second never exceed the limit (a request is answered a round trip later, in the same second or the next).
        for second in 60..<run.attempts.count {
            #expect(run.attempts[second] - run.throttled[second] <= 20, "second \(second)")
        }
        #expect(run.allConnectedSeconds >= 60 && run.allDrainedSeconds >= run.allConnectedSeconds)
        #expect(run.publishLimitBreaches == 0)
    }

    /// A parked fleet reporting every fix: a tracker that connects in second s has the fixes of
    /// seconds 0 to s queued, and sends its presence, the newest fix alone, then the rest in
    /// batches of 50; a fix produced during its drain goes alone. Worked out from the connects
    /// per second, independently of the queue.
    @Test func eachDrainSendsWhatTheQueueHeld() async {
        var scenario = Self.scenario()
        scenario.reportEveryFix = true
        scenario.drivingShare = 0
        let run = await Self.run(scenario)
        let queued = run.connects.enumerated().reduce(0) { $0 + $1.element * ($1.offset + 1) }
        #expect(run.messagesQueuedAtConnect == queued)
        let live = run.messagesDelivered - run.messagesQueuedAtConnect
        #expect(live >= 0 && live < 400, "everything queued is delivered, and a few fixes made while draining")
        let publishes = run.connects.enumerated().reduce(0) { $0 + $1.element * (2 + ($1.offset + 49) / 50) }
        #expect(run.totalPublishes == publishes + live)
    }

    /// What queues while offline is what trackerd's reporting policy keeps (FleetDrive, 20-minute
    /// rounds): parked, one heartbeat every 30 minutes, so over ~1,230 s about 1,230/1,800 of
    /// the fleet has one; driving, a fix a minute and one at each of 16 turns a round (2 per
    /// 2-minute leg), the stop's fix, TripStart and TripEnd: about 19 a round.
    @Test func theReportingPolicyDecidesWhatQueues() async {
        var scenario = Self.scenario(trackers: 200, outage: 1200)
        scenario.drivingShare = 0
        let parked = await Self.run(scenario)
        #expect(parked.mostQueuedAtConnect == 1)
        #expect((110...160).contains(parked.messagesQueuedAtConnect), "\(parked.messagesQueuedAtConnect)")
        scenario.drivingShare = 1
        scenario.reportIntervalSeconds = 60
        let driving = await Self.run(scenario)
        #expect((16 * 200...22 * 200).contains(driving.messagesQueuedAtConnect), "\(driving.messagesQueuedAtConnect)")
        scenario.reportEveryFix = true
        let everyFix = await Self.run(scenario)
        #expect(everyFix.messagesQueuedAtConnect > 1200 * 200, "every second of the outage, and TripStart/TripEnd")
        #expect(everyFix.totalPublishes > 2 * driving.totalPublishes, "a longer backlog takes more batches")
    }

    /// Without jitter every tracker draws the same delays: the whole fleet tries just before 1, 3,
    /// 7 and 15 s (the windows of trackerd's Backoff add up; a draw is [0, window)), and once the
    /// broker is back, in one second.
    @Test func withoutJitterTheFleetMovesAsOne() async {
        let run = await Self.run(Self.scenario(jitter: false))
        for second in [0, 2, 6, 14] { #expect(run.attempts[second] == 400, "second \(second)") }
        #expect(run.peakAttempts == 400)
        let jittered = await Self.run(Self.scenario())
        #expect(jittered.peakAttempts * 10 <= run.peakAttempts, "jitter: \(jittered.peakAttempts), none: \(run.peakAttempts)")
        #expect(jittered.allConnectedSeconds < run.allConnectedSeconds)
    }

    @Test func aRunIsItsSeed() async {
        var scenario = Self.scenario()
        let first = await Self.run(scenario), second = await Self.run(scenario)
        #expect(first.attempts == second.attempts && first.connects == second.connects)
        scenario.seed = 2
        #expect(await Self.run(scenario).attempts != first.attempts)
    }

    /// A long outage with a fix a second: the drain is paced by trackerd's PublishRateCap and
    /// never breaks the broker's per-connection limit; a tracker allowed more would.
    @Test func drainsArePacedByThePublishCap() async {
        var scenario = Self.scenario(trackers: 20, outage: 3600, limit: 500)
        scenario.reportEveryFix = true
        scenario.drivingShare = 0
        scenario.backlogBatch = 10
        let run = await Self.run(scenario)
        // Over 3,600 fixes queued each: presence, the newest and 360 batches, four windows of the cap.
        #expect(run.totalPublishes >= 20 * 362)
        #expect(run.publishLimitBreaches == 0)
        #expect(run.allDrainedSeconds - run.allConnectedSeconds >= 3 * 1.05)
        scenario.maxPublishRate = 200
        #expect(await Self.run(scenario).publishLimitBreaches > 0)
    }

    /// The limit holds after the first wave only while the backoff cap spreads the fleet wide
    /// enough: about 2 × trackers / limit seconds.
    @Test func theCapMustFitTheFleet() async {
        var small = Self.scenario(trackers: 400, outage: 120, limit: 20)
        small.reconnectMaxSeconds = 60
        #expect(await Self.run(small).secondsAboveLimitAfterFirstWave == 0)
        var large = small
        large.trackers = 4000
        #expect(await Self.run(large).secondsAboveLimitAfterFirstWave > 0)
    }
}
