import TrackerCore

/// `fleetsim model`: the fleet of `FleetScenario` on a virtual clock, each tracker driven by
/// trackerd's own core — `ReconnectPolicy` (with its `Backoff`) for when to try again,
/// `PublicationPlanner` (the reporting policy) for what it queues while offline
/// (`FleetTraffic`), and `OutboundQueue` with `PublishRateCap` for its drain (`TrackerDrain`) —
/// against a modelled broker: away for the outage, then accepting `connectLimit` connect
/// requests a second and throttling the rest, and counting each connection's publishes against
/// `publishLimit`. Discrete events, one pending per tracker, so a million trackers run in a few
/// hundred megabytes.
public enum FleetModel {
    enum Phase: UInt8 {
        case waiting, answering, draining, done
    }

    struct Tracker {
        var policy: ReconnectPolicy
        var phase = Phase.waiting
        var accepted = false
        /// The broker's count of this connection's publishes in its current second.
        var publishSecond: Int32 = -1
        var publishesInSecond: Int32 = 0
    }

    /// A source without jitter: every draw is the top of the window.
    struct NoJitter: RandomNumberGenerator {
        mutating func next() -> UInt64 { UInt64.max }
    }

    struct Draw {
        var jitter: Bool
        var random: SplitMix64
        mutating func after(_ policy: inout ReconnectPolicy, _ outcome: ReconnectPolicy.Outcome, now: MonotonicInstant) -> Duration {
            if jitter { return policy.after(outcome, now: now, using: &random).delay }
            var none = NoJitter()
            return policy.after(outcome, now: now, using: &none).delay
        }
    }

    /// The trackerd.toml the fleet runs with: the scenario's reporting, queue and publish settings.
    public static func trackerConfig(_ scenario: FleetScenario) -> TrackerConfig {
        var config = TrackerConfig()
        config.mqtt.endpoint = "broker"
        config.mqtt.maxPublishRate = scenario.maxPublishRate
        config.queue.backlogBatch = scenario.backlogBatch
        config.report.mode = scenario.reportEveryFix ? .everyFix : .adaptive
        config.report.movingInterval = .nanoseconds(Int64(scenario.reportIntervalSeconds * 1e9))
        return config
    }

    public static func run(_ scenario: FleetScenario, limitSeconds: Double = 86_400) -> FleetRun {
        let started = MonotonicInstant.now
        var run = FleetRun(scenario: scenario)
        // The virtual clock: t = 0 is the broker going away; instants are a day past "boot" so
        // that an hour-old session start is still a valid instant.
        let origin = MonotonicInstant(sinceBoot: .seconds(86_400))
        func instant(_ nanoseconds: Int64) -> MonotonicInstant { origin + .nanoseconds(nanoseconds) }
        let second: Int64 = 1_000_000_000
        let outageEnd = Int64(scenario.outageSeconds * 1e9)
        let roundTrip = Int64(scenario.connectRoundTripSeconds * 1e9)
        let publishRoundTrip = Int64(scenario.publishRoundTripSeconds * 1e9)
        let config = trackerConfig(scenario)
        let publishing = EngineSettings(config: config, deviceID: "sim", thingName: "sim", source: "fleetsim", processID: 0,
                                        alwaysPublish: true).publishing!
        var traffic = FleetTraffic(config: config)
        let limitTime = Int64(limitSeconds * 1e9)
        let backoff = Backoff(base: .nanoseconds(Int64(scenario.reconnectMinSeconds * 1e9)),
                              cap: .nanoseconds(Int64(scenario.reconnectMaxSeconds * 1e9)))
        // trackerd's MQTTConnection: a session that lasted a minute resets the backoff.
        var trackers = [Tracker](repeating: Tracker(policy: ReconnectPolicy(backoff: backoff, stableAfter: .seconds(60))),
                                 count: scenario.trackers)
        var drains: [Int32: TrackerDrain] = [:]
        var draw = Draw(jitter: scenario.jitter, random: SplitMix64(seed: scenario.seed))
        var heap = EventHeap(capacity: scenario.trackers)
        var acceptedInSecond: [Int] = []

        func count(_ series: inout [Int], _ time: Int64, _ n: Int = 1) {
            let index = Int(time / second)
            if index >= series.count { series.append(contentsOf: repeatElement(0, count: index - series.count + 1)) }
            series[index] += n
        }

        // Every session ends at t = 0; each had lasted an hour.
        for index in trackers.indices {
            let delay = draw.after(&trackers[index].policy, .ended(reason: "broker went away", establishedAt: instant(-3600 * second)),
                                   now: instant(0))
            heap.push(delay.nanoseconds, Int32(index))
        }
        var connected = 0, drained = 0
        // The first wave: until every tracker has tried once since the broker came back.
        var triedSinceBack = [Bool](repeating: false, count: scenario.trackers)
        var tried = 0
        var firstWaveEnd: Int64 = -1
        while let (time, tracker) = heap.pop() {
            guard time <= limitTime else { break }
            let i = Int(tracker)
            switch trackers[i].phase {
            case .waiting:
                count(&run.attempts, time)
                run.totalAttempts += 1
                if time < outageEnd {
                    count(&run.refused, time)
                    let delay = draw.after(&trackers[i].policy, .couldNotOpen(reason: "refused"), now: instant(time))
                    heap.push(time + delay.nanoseconds, tracker)
                    continue
                }
                if !triedSinceBack[i] {
                    triedSinceBack[i] = true
                    tried += 1
                    if tried == trackers.count { firstWaveEnd = time }
                }
                count(&acceptedInSecond, time, 0)
                let s = Int(time / second)
                trackers[i].accepted = acceptedInSecond[s] < scenario.connectLimit
                if trackers[i].accepted { acceptedInSecond[s] += 1 } else { count(&run.throttled, time) }
                trackers[i].phase = .answering
                heap.push(time + roundTrip, tracker)
            case .answering:
                guard trackers[i].accepted else {
                    trackers[i].phase = .waiting
                    let delay = draw.after(&trackers[i].policy, .ended(reason: "throttled", establishedAt: nil), now: instant(time))
                    heap.push(time + delay.nanoseconds, tracker)
                    continue
                }
                count(&run.connects, time)
                connected += 1
                if connected == trackers.count { run.allConnectedSeconds = Double(time) / 1e9 }
                // What its planner produced while offline, queued as it came; the newest fix
                // goes first at the reconnect.
                let key = FleetTraffic.key(FleetDrive.of(tracker: i, drivingShare: scenario.drivingShare))
                let upTo = Int(time / second)
                traffic.plan(key, through: upTo)
                var drain = TrackerDrain(settings: publishing, drive: key, now: instant(0))
                drain.take(traffic.messages[key], through: upTo, connected: false) { instant(Int64($0) * second) }
                run.messagesQueuedAtConnect += drain.queue.count
                run.mostQueuedAtConnect = max(run.mostQueuedAtConnect, drain.queue.count)
                drain.connected()
                drains[tracker] = drain
                trackers[i].phase = .draining
                heap.push(time, tracker)
            case .draining:
                var drain = drains.removeValue(forKey: tracker)!
                let now = instant(time)
                run.messagesDelivered += drain.acknowledge(by: time, now: now)
                // Produced while draining: live messages, in the same queue.
                let upTo = Int(time / second)
                traffic.plan(drain.drive, through: upTo)
                drain.take(traffic.messages[drain.drive], through: upTo, connected: true) { _ in now }
                let n = drain.publish(at: time, now: now, roundTrip: publishRoundTrip)
                count(&run.publishes, time, n)
                run.totalPublishes += n
                let s = Int32(time / second)
                if trackers[i].publishSecond != s {
                    trackers[i].publishSecond = s
                    trackers[i].publishesInSecond = 0
                }
                trackers[i].publishesInSecond += Int32(n)
                if trackers[i].publishesInSecond > Int32(scenario.publishLimit) && trackers[i].publishesInSecond - Int32(n) <= Int32(scenario.publishLimit) {
                    run.publishLimitBreaches += 1
                }
                if drain.isDone {
                    trackers[i].phase = .done
                    drained += 1
                    if drained == trackers.count { run.allDrainedSeconds = Double(time) / 1e9 }
                    continue
                }
                let next = drain.nextWake(now: now, origin: origin)
                drains[tracker] = drain
                heap.push(next.map { max($0, time + 1) } ?? time + publishRoundTrip, tracker)
            case .done:
                break
            }
        }
        for series in [\FleetRun.refused, \FleetRun.throttled, \FleetRun.connects, \FleetRun.publishes] {
            run[keyPath: series] += repeatElement(0, count: max(0, run.attempts.count - run[keyPath: series].count))
        }
        let back = Int(outageEnd / second)
        run.firstWaveEndsSecond = firstWaveEnd < 0 ? run.attempts.count : Int(firstWaveEnd / second) + 1
        if back < run.attempts.count, let peak = run.attempts[back...].enumerated().max(by: { $0.element < $1.element }) {
            run.peakAttempts = peak.element
            run.peakAttemptsSecond = back + peak.offset
        }
        if run.firstWaveEndsSecond < run.attempts.count {
            let after = run.attempts[run.firstWaveEndsSecond...]
            run.peakAttemptsAfterFirstWave = after.max() ?? 0
            run.secondsAboveLimitAfterFirstWave = after.filter { $0 > scenario.connectLimit }.count
        }
        if connected < trackers.count { run.allConnectedSeconds = -1 }
        if drained < trackers.count { run.allDrainedSeconds = -1 }
        run.wallSeconds = (MonotonicInstant.now - started).seconds
        return run
    }
}
