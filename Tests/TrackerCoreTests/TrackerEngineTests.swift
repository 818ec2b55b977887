import Foundation
import Testing
@testable import TrackerCore

/// The daemon's decisions, driven through whole scenarios with no socket, no file and a fake
/// clock. `World` carries out the engine's actions the way `trackerd run`'s driver does, with
/// an in-memory broker and store in place of libmosquitto and SQLite (those adapters have
/// their own tests against a real Mosquitto and real SQLite).
@Suite struct TrackerEngineTests {
    struct World {
        var engine: TrackerEngine
        var now: MonotonicInstant
        var wall: Int64 = 1_764_000_000_000
        /// The broker: accepts publishes while `online`, acknowledges on `acknowledge()`.
        var online = false
        var received: [String] = []
        var topics: [String] = []
        var publishedAt: [MonotonicInstant] = []
        var wakeAt: MonotonicInstant?
        /// The moments the engine was woken at.
        var wakes: [MonotonicInstant] = []
        var stopped = false
        /// The broker acknowledges each publish at once.
        var autoAcknowledge = false
        /// How long the executable takes between the engine's decision and the hand-over (other
        /// work first): the broker sees the publishes that much later.
        var publishDelay: Duration = .zero
        var unacknowledged: [Int32] = []
        var nextMessageID: Int32 = 0
        var announcements: [String] = []
        /// The store: nil while it will not open. A full disk refuses batches and takes deletions.
        var disk: [Int64: OutboundMessage]? = [:]
        var storeOpen = false
        var diskFull = false
        var droppedOnDisk = 0
        var commits: [StoreCommit] = []
        var logs: [EngineLogEntry] = []
        var notifications: [String] = []
        var statuses: [TrackerStatus] = []
        var savedZones: [GeofenceSnapshot] = []
        var savedOdometer: Double?
        var finished = false
        /// The shadow: requests sent (topic, payload), subscriptions, what was kept and set.
        var requests: [(topic: String, payload: String)] = []
        var subscriptions: [String] = []
        var savedRemote: [RemoteSettingsRecord] = []
        var logLevels: [EngineLogEntry.Level] = []
        var willTopics: [String] = []
        /// What the engine asked of the jobs' adapters.
        var jobActions: [EngineAction] = []
        var restarts: [String] = []

        /// `shadow`: the device follows its `trackerd` shadow (the file is `config`, its zones `zones`).
        init(config: TrackerConfig = World.config(), zones: [Zone] = [], disk: [Int64: OutboundMessage]? = [:],
             watchdog: Duration? = nil, seed: UInt64 = 1, shadow: Bool = false, jobs: Bool = false,
             certificate: (CertificateLifetime, Int)? = nil, logLevel: EngineLogEntry.Level = .trace) {
            now = MonotonicInstant.now
            self.disk = disk
            var settings = EngineSettings(config: config, deviceID: "tracker-1", thingName: nil, source: "test source",
                                          processID: 42, watchdogInterval: watchdog, alwaysPublish: true)
            settings.logLevel = logLevel
            if let certificate {
                settings.certificate = ("test", certificate.0, "file", certificate.1)
                settings.certificateCheckInterval = .seconds(60)
            }
            if shadow || jobs {
                settings.remote = .init(file: config, fileZones: zones, thingName: "tracker-1", logLevel: .info, shadow: shadow, jobs: jobs)
            }
            engine = TrackerEngine(settings: settings,
                                   planner: PublicationPlanner(config: config, deviceID: "tracker-1", thingName: "tracker-1",
                                                               detector: GeofenceDetector(zones: zones)),
                                   now: now, seed: seed)
        }

        static func config(_ change: (inout TrackerConfig) -> Void = { _ in }) -> TrackerConfig {
            var config = TrackerConfig()
            config.mqtt.endpoint = "broker.example"
            // Every fix a message and no trips: these scenarios count messages (MotionReporterTests
            // has the reporting rules).
            config.report.mode = .everyFix
            config.report.stopSpeed = 50
            change(&config)
            return config
        }

        mutating func send(_ input: EngineInput) {
            for action in engine.handle(input, now: now, wallMilliseconds: wall) { carryOut(action) }
        }

        mutating func carryOut(_ action: EngineAction) {
            switch action {
            case .log(let entry): logs.append(entry)
            case .publish(let publications):
                var sent: [PublishOutcome.Sent] = []
                var failure: PublishOutcome.Failure?
                for publication in publications {
                    guard online else { failure = .notConnected; break }
                    nextMessageID += 1
                    received.append(String(decoding: publication.payload, as: UTF8.self))
                    topics.append(publication.topic)
                    publishedAt.append(now + publishDelay)
                    unacknowledged.append(nextMessageID)
                    sent.append(.init(sequences: publication.sequences, messageID: nextMessageID))
                }
                send(.published(PublishOutcome(sent: sent, failure: failure, at: publishDelay > .zero ? now + publishDelay : nil)))
                if autoAcknowledge { acknowledge() }
            case .announce(let topic, let payload):
                announcements.append(String(decoding: payload, as: UTF8.self))
                topics.append(topic)
                publishedAt.append(now)
            case .request(let topic, let payload):
                requests.append((topic, String(decoding: payload, as: UTF8.self)))
                publishedAt.append(now)
            case .subscribe(let purpose, let topics):
                subscriptions += topics
                if online { send(.subscribed(purpose)) }
            case .jobSave, .jobDownload, .jobInstall, .jobReadZones, .keepJobZones, .jobRemoveFiles, .jobRotateCertificate: jobActions.append(action)
            case .saveRemoteSettings(let record): savedRemote.append(record)
            case .setLogLevel(let level): logLevels.append(level)
            case .setWillTopic(let topic): willTopics.append(topic)
            case .openStore:
                guard let disk else { return send(.storeOpenFailed(reason: "permission denied")) }
                storeOpen = true
                send(.storeOpened(OpenedStore(path: "/state/queue.db", messages: disk.values.sorted { $0.sequence < $1.sequence },
                                              droppedBefore: droppedOnDisk)))
            case .commit(let commit):
                commits.append(commit)
                guard storeOpen, !diskFull || commit.purpose == .deletionsOnly else {
                    return send(.commitFailed(commit, diskFull: diskFull, reason: diskFull ? "disk full" : "closed"))
                }
                for message in commit.work.insert { disk?[message.sequence] = message }
                for sequence in commit.work.delete { disk?[sequence] = nil }
                if let dropped = commit.droppedTotal { droppedOnDisk = dropped }
                send(.committed(commit))
            case .closeStore: storeOpen = false
            case .saveZones(let snapshot): savedZones.append(snapshot)
            case .saveOdometer(let metres): savedOdometer = metres
            case .notify(let text): notifications.append(text)
            case .writeStatus(let status): statuses.append(status)
            case .removeStatus: break
            case .finished: finished = true
            case .restart(let reason): restarts.append(reason)
            case .wake(let at): wakeAt = min(wakeAt ?? at, at)
            case .stopped: stopped = true
            }
        }

        /// Time passes; the engine is woken only at the moments it asked for, as `run` wakes it
        /// (it has no other clock).
        mutating func advance(_ duration: Duration) {
            let end = now + duration
            while let at = wakeAt, at <= end {
                if at > now {
                    wall += Int64((at - now).seconds * 1000)
                    now = at
                }
                wakeAt = nil
                wakes.append(now)
                send(.wake)
                if wakes.count > 1_000_000 {
                    Issue.record("the engine keeps asking to be woken without time passing")
                    return
                }
            }
            wall += Int64((end - now).seconds * 1000)
            now = end
        }

        /// One fix per second of track time at `second`, received now.
        mutating func fix(_ second: Int64, latitude: Double = 10.05, longitude: Double = 10.05) {
            send(.fix(Fix(time: UTCTimestamp(millisecondsSinceEpoch: 1_583_136_200_000 + second * 1000), mode: .threeD,
                          latitude: latitude, longitude: longitude, speed: 0)))
        }

        mutating func connect() {
            online = true
            send(.connection(.connected))
        }

        mutating func disconnect() {
            online = false
            unacknowledged.removeAll()
            send(.connection(.disconnected(reason: "connection lost")))
        }

        mutating func acknowledge() {
            let ids = unacknowledged
            unacknowledged.removeAll()
            send(.connection(.acknowledged(ids)))
        }

        func logged(_ text: String) -> [EngineLogEntry] { logs.filter { $0.message.contains(text) } }

        /// The fixes the broker received, in arrival order, backlog batches unpacked: each as its gpsDatTm.
        var receivedFixTimes: [String] {
            zip(topics.filter { !$0.hasSuffix("/status") }, received).flatMap { topic, payload -> [String] in
                guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { return [] }
                if topic.hasSuffix("/backlog") {
                    return (object["fixes"] as? [[String: Any]] ?? []).compactMap { $0["gpsDatTm"] as? String }
                }
                return (object["gpsDatTm"] as? String).map { [$0] } ?? []
            }
        }
    }

    @Test func startOpensTheStoreAndSaysReady() {
        var world = World()
        world.send(.start)
        #expect(world.storeOpen)
        #expect(world.notifications.first?.hasPrefix("READY=1\nSTATUS=running; waiting for the first fix from test source") == true)
        #expect(!world.logged("publishing to broker.example:8883 as tracker-1, topic gpsTopic").isEmpty)
    }

    /// Connected, offline for a while, back: every fix reaches the broker once — the newest
    /// first, then the backlog in order in one batch — and what was produced offline went to
    /// disk at the next commit.
    @Test func anOutageLosesNothingAndKeepsTheOrder() {
        var world = World()
        world.send(.start)
        world.connect()
        for second in 0..<5 { world.fix(Int64(second)); world.advance(.seconds(1)); world.acknowledge() }
        #expect(world.received.count == 5 && world.engine.queueDepth == 0)
        world.disconnect()
        for second in 5..<15 { world.fix(Int64(second)); world.advance(.seconds(1)) }
        #expect(world.received.count == 5, "nothing is published while offline")
        #expect(world.engine.queueDepth == 10)
        #expect(world.disk?.count == 10, "messages produced offline are on disk after the next commit")
        world.connect()
        world.acknowledge()
        #expect(world.received.count == 7, "the newest fix, then one batch of nine")
        #expect(world.topics.suffix(2) == ["gpsTopic", "trackers/tracker-1/backlog"])
        let times = world.receivedFixTimes
        #expect(times.count == 15 && Set(times).count == 15, "every fix once: \(times)")
        #expect(times[5].hasSuffix("08:03:34.000"), "the newest fix first after the reconnect")
        #expect(Array(times[6...]) == Array(times[6...]).sorted(), "the backlog in order")
        world.advance(.seconds(6))
        #expect(world.disk?.isEmpty == true, "acknowledged messages are deleted at the next commit")
        #expect(world.announcements.count == 2 && world.announcements.allSatisfy { $0.contains(#""state":"online""#) })
    }

    /// Messages in flight when the connection drops are sent again after it returns, exactly once
    /// more each, and the window never holds more than max_inflight.
    @Test func inFlightMessagesAreResentAndTheWindowIsKept() {
        var world = World(config: World.config { $0.queue.maxInflight = 3 })
        world.send(.start)
        world.connect()
        for second in 0..<6 { world.fix(Int64(second)) }
        #expect(world.received.count == 3, "three in flight, three waiting")
        world.disconnect()
        world.connect()
        #expect(world.received.count == 6, "the three in flight are sent again")
        world.acknowledge()
        #expect(world.received.count == 9)
        world.acknowledge()
        #expect(world.engine.queueDepth == 0)
        #expect(Set(world.received).count == 6)
    }

    /// A restart: what the first run left queued on disk is published by the second, after its
    /// current position.
    @Test func aRestartSendsWhatWasQueuedFirst() {
        var first = World()
        first.send(.start)
        for second in 0..<4 { first.fix(Int64(second)) }
        first.send(.stop)
        #expect(first.disk?.count == 4, "a clean stop writes what was only in memory")
        #expect(!first.logged("4 messages stay queued for the next start").isEmpty)
        #expect(first.notifications.last == "STOPPING=1\nSTATUS=stopping")

        var second = World(disk: first.disk)
        second.send(.start)
        #expect(!second.logged("4 queued messages from before the restart are sent first").isEmpty)
        second.fix(10)
        second.connect()
        second.acknowledge()
        let times = second.receivedFixTimes.map { String($0.suffix(12)) }
        #expect(times == ["08:03:30.000", "08:03:20.000", "08:03:21.000", "08:03:22.000", "08:03:23.000"],
                "the current position, then what the first run left, in order: \(times)")
    }

    /// A bounded queue offline: the oldest are dropped, the drop is logged once a minute at most
    /// and counted in the status and on disk.
    @Test func aFullQueueDropsTheOldestAndSaysSo() {
        var world = World(config: World.config { $0.queue.maxMessages = 5 })
        world.send(.start)
        for second in 0..<8 { world.fix(Int64(second)) }
        world.advance(.seconds(1))
        #expect(world.engine.queueDepth == 5)
        #expect(world.logged("queue full: dropped the 3 oldest messages").count == 1)
        for second in 8..<10 { world.fix(Int64(second)) }
        world.advance(.seconds(30))
        #expect(world.logged("queue full").count == 1, "at most once a minute")
        world.advance(.seconds(31))
        #expect(world.logged("queue full: dropped the 2 oldest messages (5 since start)").count == 1)
        #expect(world.statuses.last?.mqtt?.queue.dropped == 5)
        #expect(world.droppedOnDisk == 5)
        world.connect()
        world.acknowledge()
        let times = world.receivedFixTimes.map { String($0.suffix(5)) }
        #expect(times == ["9.000", "5.000", "6.000", "7.000", "8.000"], "the newest five, the newest first: \(times)")
    }

    /// A replay ends the run only once everything queued is acknowledged.
    @Test func theEndOfAReplayWaitsForTheQueue() {
        var world = World()
        world.send(.start)
        world.connect()
        world.fix(0)
        world.fix(1)
        world.send(.sourceEnded)
        #expect(!world.finished)
        world.acknowledge()
        #expect(world.finished)
        #expect(!world.logged("every queued message is acknowledged").isEmpty)
    }

    /// Loss of fix: reported once after stale_after, the next fix is "regained" and published even
    /// when the rate control would hold it back.
    @Test func aLossIsReportedOnceAndTheFixAfterItIsPublished() {
        var world = World(config: World.config { $0.report.mode = .adaptive })
        world.send(.start)
        world.connect()
        world.fix(0)
        world.advance(.seconds(1))
        world.fix(1)
        #expect(world.received.count == 1, "the rate control holds the second fix back")
        world.advance(.seconds(12))
        #expect(world.logged("fix lost: no new fix for 5 s (nothing from the receiver)").count == 1)
        world.fix(14)
        #expect(world.received.count == 2, "the first fix after a loss is always published")
        #expect(world.logged("fix regained after").count == 1)
        #expect(world.logs.contains { $0.metadata["event"] == "fix-regained" })
    }

    /// A store that will not open: memory only, told once, retried with backoff; when it opens,
    /// what was queued meanwhile is written and the recovery is told.
    @Test func aStoreThatWillNotOpenIsRetriedAndRecovered() {
        var world = World(disk: nil)
        world.send(.start)
        #expect(world.logged("the queue is kept in memory only").count == 1)
        #expect(!world.engine.isDurable)
        world.fix(0)
        world.fix(1)
        world.advance(.seconds(5))
        #expect(world.statuses.last?.mqtt?.store.durable == false)
        #expect(world.statuses.last?.mqtt?.store.reason == "permission denied")
        #expect(world.logged("the queue is kept in memory only").count == 1, "told once")
        world.disk = [:]
        world.advance(.seconds(120))
        #expect(world.engine.isDurable)
        #expect(world.disk?.count == 2, "the messages queued meanwhile are written")
        #expect(world.logged("queue storage recovered: /var/lib/trackerd/queue.db is written again").count == 1)
    }

    /// A full disk keeps the store open and tries the deletions alone.
    @Test func aFullDiskTriesTheDeletionsAlone() {
        var world = World()
        world.send(.start)
        world.connect()
        world.fix(0)
        world.disconnect()
        world.advance(.seconds(6))
        #expect(world.disk?.count == 1)
        world.connect()
        world.acknowledge()
        world.disconnect()
        world.fix(1)
        world.diskFull = true
        world.advance(.seconds(6))
        #expect(world.commits.suffix(2).map(\.purpose) == [.batch, .deletionsOnly])
        #expect(world.disk?.isEmpty == true, "the deletion went through")
        #expect(world.storeOpen, "a full disk does not close the store")
        #expect(world.logged("the queue is kept in memory only").count == 1)
        world.diskFull = false
        world.advance(.seconds(6))
        #expect(world.disk?.count == 1)
        #expect(world.engine.isDurable)
    }

    /// The watchdog is fed at its interval; STATUS= is sent only when the line changes, and the
    /// status file only when the status does (not because it grew older).
    @Test func theWatchdogAndTheStatusLine() {
        var world = World(watchdog: .seconds(5))
        world.send(.start)
        world.advance(.seconds(20))
        #expect(world.notifications.filter { $0 == "WATCHDOG=1" }.count == 4)
        let statusLines = world.notifications.filter { $0.hasPrefix("STATUS=") }
        #expect(statusLines == ["STATUS=not connected to broker.example:8883; queue 0; no fix yet"])
        #expect(world.statuses.count == 1, "nothing changed: written once")
        world.fix(0)
        #expect(world.statuses.count == 2, "the first fix is written at once")
        #expect(world.statuses.last?.lastFix?.receivedAt == UTCTimestamp(millisecondsSinceEpoch: world.wall).iso8601)
        // Ten seconds of fixes at 2 Hz: a rewrite every 2 s, not one per fix.
        for second in 1...20 {
            world.advance(.milliseconds(500))
            world.fix(Int64(second))
        }
        #expect((6...8).contains(world.statuses.count), "at most every 2 s: \(world.statuses.count)")
        world.advance(.seconds(2))
        #expect(world.statuses.last?.lastFix?.fix.time?.hasSuffix("08:03:40.000Z") == true, "the last change is written within 2 s")
        let written = world.statuses.count
        world.advance(.seconds(60))
        #expect(world.statuses.count == written, "older is not news")
        #expect(world.notifications.last { $0.hasPrefix("STATUS=") }?.hasSuffix("last fix at 16:00:30 UTC (3D)") == true,
                "the line holds the time, not an age that would go stale: \(world.notifications.last { $0.hasPrefix("STATUS=") } ?? "")")
    }

    /// An idle tracker (connected, no fixes, nothing queued) sleeps: once the fix is lost, the
    /// status written and the last acknowledgement committed, the engine asks for no wake at
    /// all; with systemd's watchdog, only for that.
    @Test func anIdleTrackerSleeps() {
        for watchdog in [nil, Duration.seconds(15)] {
            var world = World(watchdog: watchdog)
            world.send(.start)
            world.connect()
            for second in 0..<3 { world.fix(Int64(second)); world.advance(.seconds(1)); world.acknowledge() }
            world.disconnect()
            world.fix(3)
            world.advance(.seconds(6))
            world.connect()
            world.acknowledge()
            world.advance(.seconds(30))
            #expect(world.logged("fix lost").count == 1)
            #expect(world.disk?.isEmpty == true, "the acknowledged fix is deleted from disk")
            let settled = world.now
            world.advance(.seconds(600))
            let idle = world.wakes.filter { $0 > settled }
            #expect(idle.count == (watchdog == nil ? 0 : 40), "woken \(idle.count) times in 10 idle minutes")
        }
    }

    /// Every wake leaves the engine asking for a later one (or none): no busy loop, whatever
    /// the state — drains at the cap, a store that will not open, a full queue, a full disk.
    @Test func aWakeAlwaysMovesTimeOn() {
        var worlds = [Self.draining(500), World(disk: nil), World(config: World.config { $0.queue.maxMessages = 3 }), World()]
        worlds[3].diskFull = true
        for index in worlds.indices {
            var world = worlds[index]
            if index > 0 { world.send(.start) }
            for second in 0..<10 { world.fix(Int64(second)) }
            for _ in 0..<200 {
                guard let at = world.wakeAt else { break }
                world.now = max(world.now, at)
                world.wakeAt = nil
                world.send(.wake)
                #expect(world.wakeAt.map { $0 > world.now } ?? true, "world \(index) asked to be woken again at once: \(String(describing: world.wakeAt.map { world.now - $0 }))")
            }
        }
    }

    /// Geofence events are published after the fix that caused them, logged, and the zones saved.
    @Test func aZoneChangeIsPublishedLoggedAndSaved() throws {
        let zone = Zone(name: "depot", shape: .box(minLatitude: 10.1, maxLatitude: 10.2, minLongitude: 10.1, maxLongitude: 10.2))
        var world = World(zones: [zone])
        world.send(.start)
        world.connect()
        world.fix(0, latitude: 10.05, longitude: 10.05)
        world.fix(1, latitude: 10.15, longitude: 10.15)
        world.acknowledge()
        #expect(world.received.count == 5, "two fixes, the first state's OnEnter, then OnExit and OnEnter: \(world.received)")
        #expect(world.received[3].contains("OnExit") && world.received[4].contains("InBoundary"))
        #expect(world.savedZones.last?.zones["depot"]?.state == .inBoundary)
        #expect(world.logs.contains { $0.level == .notice && $0.metadata["zone"] == "depot" && $0.metadata["state"] == "InBoundary" })
        #expect(world.statuses.last?.zones == ["depot": .inBoundary])
    }

    // MARK: - the publish-rate cap (issue 12)

    /// `offline` fixes made before the broker is there, one per message, acknowledged at once,
    /// then the connection: a drain at the cap begins.
    static func draining(_ offline: Int, change: (inout TrackerConfig) -> Void = { _ in }) -> World {
        var world = World(config: World.config { $0.queue.backlogBatch = 1; $0.queue.maxInflight = 100; change(&$0) })
        world.autoAcknowledge = true
        world.send(.start)
        for second in 0..<offline { world.fix(Int64(second)) }
        world.connect()
        return world
    }

    /// 600 fixes made offline, one per message: the drain never puts more than 100 publishes
    /// (presence included) into any 1.05 s, the status says the cap is holding them back, and
    /// everything arrives.
    @Test func aDrainKeepsToTheCapAndSaysSo() {
        var world = Self.draining(600)
        world.advance(.milliseconds(500))
        #expect(world.statuses.last?.mqtt?.publishRate.heldBack ?? 0 > 400)
        #expect(world.notifications.contains { $0.hasPrefix("STATUS=") && $0.contains("rate cap 100/s holding") })
        world.advance(.seconds(8))
        #expect(world.receivedFixTimes.count == 600 && Set(world.receivedFixTimes).count == 600)
        var worst = 0, low = 0
        for high in world.publishedAt.indices {
            while world.publishedAt[high] - world.publishedAt[low] >= .milliseconds(1050) { low += 1 }
            worst = max(worst, high - low + 1)
        }
        #expect(worst <= 100, "at most 100 publishes in any 1.05 s: \(worst)")
        #expect(world.statuses.last?.mqtt?.publishRate.heldBack == 0)
    }

    /// The executable busy for 0.3 s between deciding and sending (a large commit, a burst of
    /// journal lines) once: the cap counts from the hand-over, so the broker still never sees
    /// more than 100 in a second.
    @Test func aLateHandOverDoesNotOpenTheNextWindowEarly() {
        var world = World(config: World.config { $0.queue.backlogBatch = 1; $0.queue.maxInflight = 100 })
        world.autoAcknowledge = true
        world.send(.start)
        for second in 0..<600 { world.fix(Int64(second)) }
        world.publishDelay = .milliseconds(300)
        world.connect()
        world.publishDelay = .zero
        world.advance(.seconds(8))
        var worst = 0, low = 0
        let times = world.publishedAt.sorted()
        for high in times.indices {
            while times[high] - times[low] >= .seconds(1) { low += 1 }
            worst = max(worst, high - low + 1)
        }
        #expect(worst <= 100, "at most 100 publishes in any second as the broker sees them: \(worst)")
        #expect(world.receivedFixTimes.count == 600)
    }

    /// While the backlog drains at the cap, a fix made now is published within 2 s.
    @Test func liveFixesFlowDuringADrain() {
        var world = Self.draining(3_000)
        for second in Int64(3_000)..<3_005 {
            world.advance(.seconds(1))
            let made = world.now
            world.fix(second)
            world.advance(.seconds(2))
            let time = UTCTimestamp(millisecondsSinceEpoch: 1_583_136_200_000 + second * 1000)
            let stamp = FixPayload.encode(Fix(time: time, mode: .threeD, latitude: 10.05, longitude: 10.05), deviceID: "tracker-1",
                                          format: .gpsInput) ?? "?"
            let index = world.received.firstIndex(of: stamp)
            #expect(index.map { made.duration(to: world.publishedAt[$0 + world.announcements.count]) < .seconds(2) } ?? false,
                    "fix \(second) arrived within 2 s of being made")
        }
        #expect(world.receivedFixTimes.count < 3_005, "the backlog is still draining meanwhile")
    }

    /// A stop while the cap has no token waits for one to say "offline", then closes the store.
    @Test func aStopWaitsForATokenToSayOffline() {
        var world = Self.draining(20) { $0.mqtt.maxPublishRate = 5 }
        world.send(.stop)
        #expect(!world.stopped && world.storeOpen, "no token: the stop waits")
        world.advance(.seconds(2))
        #expect(world.stopped && !world.storeOpen)
        #expect(world.announcements.last == #"{"state":"offline"}"#)
    }

    /// A clean stop while connected says offline before the store closes.
    @Test func aStopWhileConnectedSaysOffline() {
        var world = World()
        world.send(.start)
        world.connect()
        world.fix(0)
        world.send(.stop)
        #expect(world.announcements.last == #"{"state":"offline"}"#)
        #expect(!world.storeOpen)
        #expect(world.disk?.count == 1, "the unacknowledged fix is kept")
    }
}

/// A tracker that runs for months renews its certificate too: it looks at the expiry once an
/// interval (the start looked first) and asks for the restart that renews it, once per look.
@Suite struct CertificateExpiryEngineTests {
    @Test func aCertificateThatBecomesDueWhileRunningAsksForARestart() {
        let wall: Int64 = 1_764_000_000
        let lifetime = CertificateLifetime(notBefore: wall - 86_400, notAfter: wall + 7 * 86_400 + 30)
        var world = TrackerEngineTests.World(certificate: (lifetime, 7))
        world.send(.start)
        world.advance(.seconds(59))
        #expect(world.restarts.isEmpty, "not looked at again before the interval")
        world.advance(.seconds(2))
        #expect(world.restarts == ["the device certificate expires in 7 days (rotate_before_days = 7): renewing it comes before the connection"])
        world.advance(.seconds(30))
        #expect(world.restarts.count == 1, "one restart per look")

        var far = TrackerEngineTests.World(certificate: (CertificateLifetime(notBefore: wall - 86_400, notAfter: wall + 300 * 86_400), 7))
        far.send(.start)
        far.advance(.seconds(200))
        #expect(far.restarts.isEmpty)
        var never = TrackerEngineTests.World(certificate: (lifetime, 0))
        never.send(.start)
        never.advance(.seconds(200))
        #expect(never.restarts.isEmpty, "rotate_before_days = 0: only a job renews")
    }
}

/// Debug lines are not even made below the level in force: a line per fix costs its formatting.
@Suite struct EngineLogLevelTests {
    @Test func aFixIsLoggedAtDebugOnlyWhenDebugIsInForce() {
        func fixLines(_ level: EngineLogEntry.Level) -> Int {
            var world = TrackerEngineTests.World(logLevel: level)
            world.send(.start)
            for second in 0..<3 { world.fix(Int64(second)); world.advance(.seconds(1)) }
            return world.logs.filter { $0.level == .debug && $0.message.hasPrefix("fix: ") }.count
        }
        #expect(fixLines(.debug) == 3)
        #expect(fixLines(.trace) == 3)
        #expect(fixLines(.info) == 0)
    }
}
