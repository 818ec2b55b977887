/// What the daemon decides, as one state machine: inputs in, actions out, no I/O.
///
/// `trackerd run` feeds it fixes, the connection's events and the wakes it asks for (it has no
/// fixed tick: an idle tracker sleeps until its next timer) and carries out what it
/// returns (publish, store work, journal lines, sd_notify, status); `trackerd simulate` feeds
/// it a recorded track and prints what it would publish. Both therefore publish the same
/// messages for the same fixes, and every decision can be tested on a fake clock without a
/// socket. The policies are the small core types it composes: `FixLossDetector`,
/// `PublicationPlanner` (rate control, geofences, payloads), `OutboundQueue` and
/// `QueueStorageHealth` (in `MessageDelivery`).
///
/// Actions that have a result are answered at once with the matching input (`publish` with
/// `.published`, `openStore` with `.storeOpened`, `commit` with `.committed`), before the rest
/// of the same batch is carried out: the engine sees the world in the order it changed.
public struct TrackerEngine: Sendable {
    public private(set) var settings: EngineSettings
    private var loss: FixLossDetector
    private var lostAt: MonotonicInstant?
    public private(set) var planner: PublicationPlanner
    private var lastFix: (fix: Fix, at: MonotonicInstant, wall: Int64)?
    private var sourceEnded = false
    private var finished = false
    private var stopped = false
    private var lastWatchdog: MonotonicInstant?
    /// When the running tracker next looks at its certificate's expiry.
    private var nextCertificateCheck: MonotonicInstant?
    /// The wall clock at the last input, for what the status says in calendar time.
    private var lastWallMilliseconds: Int64 = 0
    /// The lowest level logged now (the command line's, or the shadow's `log_level`).
    private var logLevelInForce: EngineLogEntry.Level
    private var lastStatusAt: MonotonicInstant?
    /// Something happened since the status was last looked at: look again at the next interval.
    private var statusChanged = true
    /// The status as last written, its ages left out: a status that only grew older is not
    /// written again (readers age it from `writtenAt`).
    private var writtenStatus: TrackerStatus?
    /// The wake the driver holds: it keeps the earliest asked for and forgets it once delivered.
    private var wakeAsked: MonotonicInstant?
    private var delivery: MessageDelivery?
    private var random: SplitMix64
    /// The odometer as last saved, and when: saved at each trip's end, at a stop, and at most
    /// every 5 minutes while it grows (a crash loses at most that much distance).
    private var savedOdometer: Double?
    private var savedOdometerAt: MonotonicInstant?
    /// The `trackerd` shadow, when the device follows it.
    public private(set) var shadow: DeviceShadow?
    /// AWS IoT Jobs, when the device takes them.
    public private(set) var jobs: JobRunner?
    /// The zone set an `update-geofences` job put in force (over the file's, under the shadow's).
    private var jobZones: [Zone]?
    /// The remote-capable settings in force, for the status (made again when they change).
    private var effective: [EffectiveSetting] = []

    /// `planner` holds the zones with the states restored from the last run; `seed` fixes the
    /// random jitter of the store's retries; `shadow`: the shadow settings kept from the last
    /// run (`planner` and `settings` already follow them), used when `settings.remote` is set.
    /// `jobs`: the jobs' state from the last run; `jobZones`: the zone set a job put in force
    /// then (`planner` already follows it).
    public init(settings: EngineSettings, planner: PublicationPlanner, now: MonotonicInstant, seed: UInt64,
                shadow: DeviceShadow? = nil, jobs: JobRunner? = nil, jobZones: [Zone]? = nil) {
        self.settings = settings
        self.planner = planner
        self.jobZones = jobZones
        logLevelInForce = settings.logLevel
        if let remote = settings.remote, settings.publishing != nil {
            if remote.shadow {
                self.shadow = shadow ?? DeviceShadow(thingName: remote.thingName, processID: settings.processID)
            }
            if remote.jobs {
                self.jobs = jobs ?? JobRunner(thingName: remote.thingName, version: settings.publishing?.version ?? TrackerCore.version, ledger: JobLedger(),
                                              installResult: nil, processID: settings.processID)
            }
            effective = EffectiveSetting.list(file: remote.file, remote: self.shadow?.applied ?? RemoteSettings(),
                                              logLevel: remote.logLevel.rawValue, jobZones: jobZones?.map(\.name))
        }
        loss = FixLossDetector(staleAfter: settings.staleAfter)
        random = SplitMix64(seed: seed)
        delivery = settings.publishing.map { MessageDelivery(settings: $0, storeRetry: settings.storeRetry, now: now) }
    }

    /// Messages waiting for an acknowledgement (0 without an endpoint).
    public var queueDepth: Int { delivery?.queue.count ?? 0 }

    /// Whether a PUBACK is worth a wake-up now: something waits for the window (a backlog, a
    /// burst), or the end of a replay or a stop waits for the queue to empty. Otherwise the
    /// acknowledgements can come with the next input (a fix, a timer): nothing waits on them.
    public var needsAcknowledgementsAtOnce: Bool {
        guard let queue = delivery?.queue else { return false }
        return sourceEnded || stopped || queue.count > queue.inflightCount
    }
    /// False while the queue is in memory only (its store would not open or would not write).
    public var isDurable: Bool { delivery?.storage.isDurable ?? true }

    public mutating func handle(_ input: EngineInput, now: MonotonicInstant, wallMilliseconds: Int64) -> [EngineAction] {
        lastWallMilliseconds = wallMilliseconds
        var out: [EngineAction] = []
        if case .wake = input { wakeAsked = nil } else { statusChanged = true }
        switch input {
        case .start: start(now: now, &out)
        case .fix(let fix): lossEvents(loss.receive(fix, at: now), now: now, &out)
        case .sourceEnded:
            out.log(.info, "fix source ended: \(settings.source)")
            sourceEnded = true
        case .connection(let event):
            let deviceID = settings.deviceID
            delivery?.connection(event, deviceID: deviceID, now: now, &out)
            switch event {
            case .connected:
                if let shadow { out.append(.subscribe(.shadow, shadow.subscriptions)) }
                if let jobs { out.append(.subscribe(.jobs, jobs.subscriptions)) }
            case .disconnected, .connectionFailed: shadow?.disconnected()
            case .acknowledged, .retrying: break
            }
        case .subscribed(.shadow):
            if let request = shadow?.getRequest() { delivery?.request(topic: request.topic, payload: request.payload, now: now, &out) }
        case .subscribed(.jobs):
            if let actions = jobs?.subscribed() { carryOut(actions, now: now, &out) }
        case .message(let topic, let payload):
            if let actions = jobs?.received(topic: topic, payload: payload) {
                carryOut(actions, now: now, &out)
            } else {
                shadowMessage(topic: topic, payload: payload, now: now, &out)
            }
        case .jobProgress(let bytes, let total):
            if let actions = jobs?.progressed(bytes: bytes, total: total) { carryOut(actions, now: now, &out) }
        case .jobDownloaded(let result):
            if let actions = jobs?.downloaded(result) { carryOut(actions, now: now, &out) }
        case .jobZones(let jobId, let result): jobZonesRead(jobId: jobId, result, now: now, &out)
        case .published(let outcome): delivery?.published(outcome, &out)
        case .storeOpened(let store): delivery?.storeOpened(store, now: now, &out)
        case .storeOpenFailed(let reason):
            delivery?.storageFailed(reason, now: now, wallMilliseconds: wallMilliseconds, random: &random, &out)
        case .committed(let commit): delivery?.committed(commit, &out)
        case .commitFailed(let commit, let diskFull, let reason):
            delivery?.commitFailed(commit, diskFull: diskFull, reason: reason, now: now, wallMilliseconds: wallMilliseconds,
                                   random: &random, &out)
        case .stop: stop(now: now, &out)
        case .wake:
            if stopped {
                if delivery?.finishStop(now: now, &out) ?? true { out.append(.stopped) }
            } else {
                timers(now: now, wallMilliseconds: wallMilliseconds, &out)
            }
        }
        if sourceEnded && !finished && !stopped && queueDepth == 0 {
            finished = true
            if delivery != nil { out.log(.info, "every queued message is acknowledged") }
            out.append(.finished)
        }
        if let at = nextWake(now: now), wakeAsked.map({ at < $0 }) ?? true {
            wakeAsked = at
            out.append(.wake(at: at))
        }
        return out
    }

    /// The earliest of the engine's timers: the cap's next token, a commit, a retry of the
    /// store, the fix going stale, the watchdog, the status, the certificate's daily look.
    /// After a `.wake` at `now` it is later than `now` (or nil): a wake always makes progress.
    func nextWake(now: MonotonicInstant) -> MonotonicInstant? {
        let pending = delivery?.nextWake(now: now, dropReportInterval: settings.dropReportInterval)
        guard !stopped else { return pending }
        var at = pending
        func earliest(_ instant: MonotonicInstant?) {
            if let instant { at = min(at ?? instant, instant) }
        }
        earliest(loss.staleAt)
        if let interval = settings.watchdogInterval { earliest(lastWatchdog.map { $0 + interval } ?? now) }
        if statusChanged { earliest(lastStatusAt.map { $0 + settings.statusInterval } ?? now) }
        if settings.certificate?.rotateBeforeDays != nil { earliest(nextCertificateCheck) }
        return at
    }

    // MARK: - the shadow

    private mutating func shadowMessage(topic: String, payload: [UInt8], now: MonotonicInstant, _ out: inout [EngineAction]) {
        guard let reaction = shadow?.received(topic: topic, payload: payload), let shadow else {
            out.log(.debug, "message on \(topic) ignored: nothing here follows it")
            return
        }
        out.append(contentsOf: reaction.log.map(EngineAction.log))
        if let settings = reaction.apply {
            apply(settings, now: now, &out)
            out.append(.saveRemoteSettings(RemoteSettingsRecord(settings, version: shadow.appliedVersion)))
        }
        if let report = reaction.report { delivery?.request(topic: shadow.prefix + "update", payload: report, now: now, &out) }
    }

    // MARK: - jobs

    private mutating func carryOut(_ actions: [JobRunner.Action], now: MonotonicInstant, _ out: inout [EngineAction]) {
        for action in actions {
            switch action {
            case .publish(let topic, let payload): delivery?.request(topic: topic, payload: payload, now: now, &out)
            case .save(let ledger): out.append(.jobSave(ledger))
            case .download(let jobId, let url, let size): out.append(.jobDownload(jobId: jobId, url: url, size: size))
            case .install(let jobId, let version): out.append(.jobInstall(jobId: jobId, version: version))
            case .applyGeofences(let jobId): out.append(.jobReadZones(jobId: jobId))
            case .rotateCertificate(let jobId): out.append(.jobRotateCertificate(jobId: jobId))
            case .removeFiles(let jobId): out.append(.jobRemoveFiles(jobId: jobId))
            case .log(let entry): out.append(.log(entry))
            }
        }
    }

    /// An `update-geofences` job's zones, read: in force at once (unless the shadow sets the
    /// zones, which stay on top), kept for the next start, and the job told.
    private mutating func jobZonesRead(jobId: String, _ result: Result<[Zone], JobRejection>, now: MonotonicInstant,
                                       _ out: inout [EngineAction]) {
        guard var jobs else { return }
        switch result {
        case .success(let zones):
            jobZones = zones
            out.append(.keepJobZones(jobId: jobId))
            apply(shadow?.applied ?? RemoteSettings(), now: now, &out)
            carryOut(jobs.geofencesApplied(.success(zones.count)), now: now, &out)
        case .failure(let rejection):
            carryOut(jobs.geofencesApplied(.failure(rejection)), now: now, &out)
        }
        self.jobs = jobs
    }

    /// The file's settings with `remote` over them, in force from the next fix.
    private mutating func apply(_ remote: RemoteSettings, now: MonotonicInstant, _ out: inout [EngineAction]) {
        guard let base = settings.remote else { return }
        let config = remote.applied(to: base.file)
        effective = EffectiveSetting.list(file: base.file, remote: remote, logLevel: base.logLevel.rawValue, jobZones: jobZones?.map(\.name))
        let zones = remote.geofences.map { $0.compactMap { $0.zone() } } ?? jobZones ?? base.fileZones
        let zonesBefore = planner.detector.zones
        planner.reconfigure(config: config, thingName: base.thingName, zones: zones, quietStart: remote.geofences == nil && jobZones != nil)
        if planner.detector.zones != zonesBefore {
            out.log(.info, "geofences: " + (zones.isEmpty ? "none" : zones.map(\.name).joined(separator: ", ")))
            out.append(.saveZones(GeofenceSnapshot(planner.detector)))
        }
        if let publishing = settings.publishing {
            let topic = config.mqtt.statusTopic.replacing("{clientId}", with: publishing.clientID)
            if topic != publishing.statusTopic {
                settings.publishing?.statusTopic = topic
                delivery?.moveStatus(to: topic, deviceID: settings.deviceID, now: now, &out)
                out.append(.setWillTopic(topic))
            }
        }
        logLevelInForce = remote.logLevel.flatMap(EngineLogEntry.Level.init(rawValue:)) ?? base.logLevel
        out.append(.setLogLevel(logLevelInForce))
        writeStatus(now: now, &out)
    }

    /// Writes the status file when it says something new, and systemd's STATUS= line when
    /// that changed. `routine`: the 2 s rewrite, which a write at once (a first fix, a zone
    /// change) does not postpone.
    private mutating func writeStatus(now: MonotonicInstant, routine: Bool = false, _ out: inout [EngineAction]) {
        if routine { lastStatusAt = now }
        statusChanged = false
        var status = status(now: now)
        let unaged = status.withoutAges
        guard unaged != writtenStatus else { return }
        // The line holds no age: it changes only with what `withoutAges` keeps.
        let summaryChanged = unaged.summary != writtenStatus?.summary
        writtenStatus = unaged
        status.writtenAt = UTCTimestamp(millisecondsSinceEpoch: lastWallMilliseconds).iso8601
        out.append(.writeStatus(status))
        if summaryChanged { out.append(.notify("STATUS=" + status.summary)) }
    }

    /// The status as `trackerd status` shows it.
    public func status(now: MonotonicInstant) -> TrackerStatus {
        let detector = planner.detector
        var zones: [String: ZoneState?] = [:]
        for zone in detector.zones { zones[zone.name] = .some(detector.state(of: zone.name)) }
        var status = TrackerStatus(
            pid: settings.processID, deviceId: settings.deviceID, thing: settings.thingName, source: settings.source,
            mqtt: delivery?.status(now: now),
            lastFix: lastFix.map { .init(ageSeconds: ($0.at.duration(to: now).seconds * 10).rounded() / 10, fix: .init($0.fix),
                                         receivedAt: UTCTimestamp(millisecondsSinceEpoch: $0.wall).iso8601) },
            zones: zones)
        status.odometerMetres = (planner.odometer * 10).rounded() / 10
        status.motion = planner.reporter.motion.rawValue
        status.version = settings.publishing?.version ?? TrackerCore.version
        status.shadow = shadow.map(TrackerStatus.Shadow.init)
        status.job = jobs.flatMap(TrackerStatus.Job.init)
        status.settings = effective
        if let certificate = settings.certificate {
            let left = Double(certificate.lifetime.notAfter * 1000 - lastWallMilliseconds) / 86_400_000
            status.certificate = .init(id: certificate.id,
                                       notAfter: UTCTimestamp(millisecondsSinceEpoch: certificate.lifetime.notAfter * 1000).iso8601,
                                       daysLeft: (left * 10).rounded() / 10, renewedDaysBefore: certificate.rotateBeforeDays,
                                       key: certificate.key)
        }
        return status
    }

    // MARK: - start, time, stop

    private mutating func start(now: MonotonicInstant, _ out: inout [EngineAction]) {
        lastWatchdog = now
        // The start just looked at the certificate (and renewed it when due): the next look is
        // an interval away, so a cloud that cannot renew it costs one restart a day at most.
        nextCertificateCheck = now + settings.certificateCheckInterval
        if let publishing = settings.publishing {
            out.append(.openStore)
            out.log(.info, "publishing to \(publishing.endpoint) as \(publishing.clientID), topic \(publishing.topic)")
        }
        if !planner.detector.zones.isEmpty {
            out.log(.info, "geofences: \(planner.detector.zones.map(\.name).joined(separator: ", "))")
        }
        out.log(.info, "waiting for the first fix from \(settings.source)")
        if delivery == nil { out.log(.info, "no [mqtt] endpoint configured: fixes are logged, not published") }
        out.append(.notify("READY=1\nSTATUS=running; waiting for the first fix from \(settings.source)"))
    }

    /// What time brings, whichever timer this wake is for: each looks whether it is due.
    private mutating func timers(now: MonotonicInstant, wallMilliseconds: Int64, _ out: inout [EngineAction]) {
        if let check = nextCertificateCheck, now >= check, let certificate = settings.certificate, let days = certificate.rotateBeforeDays {
            nextCertificateCheck = now + settings.certificateCheckInterval
            if case .due(let left) = certificate.lifetime.renewal(now: wallMilliseconds / 1000, beforeDays: days) {
                out.append(.restart(reason: "the device certificate expires in \(JSONNumber.fixed(left, 1)) days (rotate_before_days = \(days)): renewing it comes before the connection"))
            }
        }
        let before = out.count
        delivery?.timers(now: now, dropReportInterval: settings.dropReportInterval, &out)
        lossEvents(loss.tick(now), now: now, &out)
        // A wake that did something (published, committed, lost the fix) may change the status.
        if out.count > before { statusChanged = true }
        if let interval = settings.watchdogInterval, lastWatchdog.map({ now - $0 >= interval }) ?? true {
            out.append(.notify("WATCHDOG=1"))
            lastWatchdog = now
        }
        if statusChanged && lastStatusAt.map({ now - $0 >= settings.statusInterval }) ?? true {
            writeStatus(now: now, routine: true, &out)
        }
    }

    private mutating func stop(now: MonotonicInstant, _ out: inout [EngineAction]) {
        guard !stopped else { return }
        stopped = true
        out.append(.notify("STOPPING=1\nSTATUS=stopping"))
        out.append(.removeStatus)
        if planner.odometer != (savedOdometer ?? 0) { out.append(.saveOdometer(planner.odometer)) }
        delivery?.stop(now: now, &out)
        if !(delivery?.stopping ?? false) { out.append(.stopped) }
    }

    // MARK: - fixes

    private mutating func lossEvents(_ events: [FixLossDetector.Event], now: MonotonicInstant, _ out: inout [EngineAction]) {
        for event in events {
            switch event {
            case .fix(let fix, let first, let regained):
                accept(fix, first: first, regained: regained, now: now, &out)
            case .lost(let last, let receiverReportsNoFix):
                lostAt = now
                let why = receiverReportsNoFix ? "the receiver reports no fix" : "nothing from the receiver"
                out.log(.warning, "fix lost: no new fix for \(JSONNumber.fixed(settings.staleAfter.seconds, 1)) s (\(why)); last: \(last.summary)",
                        ["event": "fix-lost"])
            case .repeated(let fix):
                if logLevelInForce <= .debug { out.log(.debug, "repeated fix ignored: \(fix.summary)") }
            }
        }
    }

    private mutating func accept(_ fix: Fix, first: Bool, regained: Bool, now: MonotonicInstant, _ out: inout [EngineAction]) {
        lastFix = (fix, now, lastWallMilliseconds)
        if first {
            out.log(.info, "first fix: \(fix.summary)")
        } else if regained {
            let gap = lostAt.map { " after \(JSONNumber.fixed(($0.duration(to: now) + settings.staleAfter).seconds, 1)) s" } ?? ""
            out.log(.info, "fix regained\(gap): \(fix.summary)", ["event": "fix-regained"])
        }
        let messages = planner.plan(fix, afterLoss: regained)
        delivery?.enqueue(messages, now: now, &out)
        if logLevelInForce <= .debug { out.log(.debug, "fix: \(fix.summary)") }
        let events = messages.compactMap(\.event)
        for event in events {
            let was = event.previous.map { " (was \($0.rawValue))" } ?? ""
            let at = "\(JSONNumber.fixed(event.position.latitude, 6)),\(JSONNumber.fixed(event.position.longitude, 6))"
            out.log(.notice, "geofence \(event.zone): \(event.kind.rawValue) \(event.state.rawValue)\(was) at \(at) \(event.time.iso8601)",
                    ["event": "geofence", "zone": event.zone, "geofence_event": event.kind.rawValue, "state": event.state.rawValue])
        }
        for motion in messages.compactMap(\.motion) {
            var text = "\(motion.kind.rawValue) at \(JSONNumber.fixed(motion.position.latitude, 6)),\(JSONNumber.fixed(motion.position.longitude, 6)) \(motion.time.iso8601)"
            if let distance = motion.distance, let duration = motion.duration {
                text += ": \(JSONNumber.fixed(distance / 1000, 2)) km in \(JSONNumber.fixed(duration / 60, 1)) min"
            }
            if let speed = motion.speed, let limit = motion.maxSpeed {
                text += ": \(JSONNumber.fixed(speed, 1)) m/s, limit \(JSONNumber.fixed(limit, 1))" + (motion.zone.map { " in \($0)" } ?? "")
            }
            var metadata = ["event": "motion", "motion_event": motion.kind.rawValue]
            if let zone = motion.zone { metadata["zone"] = zone }
            out.log(.notice, text, metadata)
        }
        if !events.isEmpty { out.append(.saveZones(GeofenceSnapshot(planner.detector))) }
        let tripEnded = messages.contains { $0.motion?.kind == .tripEnd }
        if planner.odometer != (savedOdometer ?? 0)
            && (tripEnded || savedOdometerAt.map { now - $0 >= .seconds(300) } ?? true) {
            savedOdometer = planner.odometer
            savedOdometerAt = now
            out.append(.saveOdometer(planner.odometer))
        }
        if first || regained || !events.isEmpty {
            // Worth showing at once, not at the next routine rewrite.
            writeStatus(now: now, &out)
        }
    }
}
