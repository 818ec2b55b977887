#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Synchronization
import TrackerCore
import TrackerMQTT
import TrackerDownload
import TrackerStorage
import TrackerSystem

/// Carries out what `TrackerEngine` decides, with the daemon's adapters: the MQTT connection,
/// the queue's SQLite store, the status file, the zones' state file, sd_notify and the log.
/// It decides nothing: every result goes back to the engine as an input, at once.
///
/// Used by one thread (`TrackerService`'s loop), never shared.
final class EngineDriver {
    private(set) var engine: TrackerEngine
    private(set) var finished = false
    /// A job asked for work that a restart does (a certificate rotation): the run ends, and
    /// `run` exits 75 for systemd to start it again.
    private(set) var restartRequested = false
    private(set) var stopped = false
    /// The earliest `.wake` the engine asked for and has not had yet.
    private(set) var wakeAt: MonotonicInstant?
    private let connection: MQTTConnection?
    private var store: SQLiteQueueStore?
    private let storeDirectory: String
    private let statusFile: StatusFile
    private let zoneStates: JSONStateFile<GeofenceSnapshot>
    private let odometer: JSONStateFile<OdometerReading>
    private let remoteSettings: JSONStateFile<RemoteSettingsRecord>
    private let jobFiles: JobFiles
    private let jobsCAFile: String?
    /// Where work done off the loop (a download, reading a zone set) reports back.
    private let results: @Sendable (EngineInput) -> Void
    /// The download in progress, to stop it at shutdown.
    private var download: StopFlag?
    /// SUBSCRIBE message ids and what they were for.
    private var subscriptions: [Int32: SubscriptionPurpose] = [:]
    private let notifier: SystemdNotifier
    private let logger: Logger

    init(engine: TrackerEngine, connection: MQTTConnection?, storeDirectory: String, statusFile: StatusFile,
         zoneStates: JSONStateFile<GeofenceSnapshot>, odometer: JSONStateFile<OdometerReading>,
         remoteSettings: JSONStateFile<RemoteSettingsRecord>, jobFiles: JobFiles, jobsCAFile: String?,
         results: @escaping @Sendable (EngineInput) -> Void, notifier: SystemdNotifier, logger: Logger) {
        self.odometer = odometer
        self.remoteSettings = remoteSettings
        self.jobFiles = jobFiles
        self.jobsCAFile = jobsCAFile
        self.results = results
        self.engine = engine
        self.connection = connection
        self.storeDirectory = storeDirectory
        self.statusFile = statusFile
        self.zoneStates = zoneStates
        self.notifier = notifier
        self.logger = logger
    }

    /// How deep `send` is: results are sent from inside `carryOut`.
    private var depth = 0

    func send(_ input: EngineInput) {
        depth += 1
        defer { depth -= 1 }
        // Acknowledgements that came without a wake (see `settleAcknowledgements`) go first.
        if depth == 1, let connection, connection.hasAcknowledged {
            handle(.connection(.acknowledged(connection.takeAcknowledged())))
        }
        handle(input)
        if depth == 1 { settleAcknowledgements() }
    }

    private func handle(_ input: EngineInput) {
        if case .wake = input { wakeAt = nil }
        let actions = engine.handle(input, now: MonotonicInstant.now, wallMilliseconds: WallClock.now().millisecondsSinceEpoch)
        for action in actions { carryOut(action) }
    }

    /// Tells the connection whether a PUBACK must wake the loop. When it must, acknowledgements
    /// that arrived while it need not are taken now (none of them woke it).
    private func settleAcknowledgements() {
        guard let connection else { return }
        while true {
            let wanted = engine.needsAcknowledgementsAtOnce
            connection.wantAcknowledgements(wanted)
            guard wanted, connection.hasAcknowledged else { return }
            handle(.connection(.acknowledged(connection.takeAcknowledged())))
        }
    }

    /// An event of the connection, as the engine's inputs. Acknowledgements that arrived
    /// before a disconnection still count: without them those messages would be sent again.
    func send(_ event: MQTTEvent) {
        guard let connection else { return }
        switch event {
        case .connected: send(.connection(.connected))
        case .acknowledgementsReady: send(.connection(.acknowledged(connection.takeAcknowledged())))
        case .disconnected(let reason):
            send(.connection(.acknowledged(connection.takeAcknowledged())))
            send(.connection(.disconnected(reason: reason)))
        case .connectionFailed(let reason):
            send(.connection(.acknowledged(connection.takeAcknowledged())))
            send(.connection(.connectionFailed(reason: reason)))
        case .retrying(let delay): send(.connection(.retrying(after: delay)))
        case .subscribed(let messageID, let granted):
            guard let purpose = subscriptions.removeValue(forKey: messageID) else { return }
            // MQTT 3.1.1 answers a refused topic with 0x80 rather than an error.
            if granted.contains(0x80) {
                let topics = purpose == .shadow ? "$aws/things/{thing}/shadow/name/trackerd/*" : "$aws/things/{thing}/jobs/*"
                logger.error("the broker refused a subscription: does the device policy allow \(topics)?")
            }
            send(EngineInput.subscribed(purpose))
        case .message(let topic, let payload): send(EngineInput.message(topic: topic, payload: payload))
        }
    }

    private func carryOut(_ action: EngineAction) {
        switch action {
        case .log(let entry):
            logger.log(level: Self.level(entry.level), "\(entry.message)",
                       metadata: entry.metadata.isEmpty ? nil : entry.metadata.mapValues { .string($0) })
        case .publish(let messages): send(.published(publish(messages)))
        case .announce(let topic, let payload): _ = connection?.publish(topic: topic, payload: payload, retain: true)
        case .request(let topic, let payload): _ = connection?.publish(topic: topic, payload: payload)
        case .subscribe(let purpose, let topics):
            switch connection?.subscribe(topics) {
            case .success(let id): subscriptions[id] = purpose
            case .failure(let error): logger.warning("cannot subscribe to \(topics.first ?? ""): \(error)")
            case nil: break
            }
        case .jobSave(let ledger):
            do { try jobFiles.prepare() } catch { logger.error("jobs: \(error)") }
            jobFiles.ledger.save(ledger, logger: logger)
        case .jobDownload(let jobId, let url, _): startDownload(jobId: jobId, url: url)
        case .jobInstall(let jobId, let version):
            do {
                try jobFiles.requestInstall(jobId, version: version)
            } catch {
                logger.error("job \(jobId): cannot hand the package to the update unit: \(error)")
            }
        case .jobReadZones(let jobId):
            let path = jobFiles.download(jobId), results = self.results
            // A zone set of 10,000 zones takes a while to read: not on the loop.
            Task.detached { results(.jobZones(jobId: jobId, JobFiles.readZones(path))) }
        case .keepJobZones(let jobId): jobFiles.keepZones(jobId, logger: logger)
        case .jobRemoveFiles(let jobId): jobFiles.remove(jobId)
        case .restart(let reason):
            logger.notice("\(reason)")
            restartRequested = true
            finished = true
        case .jobRotateCertificate(let jobId):
            do {
                try CertificateRotation.request(storeDirectory: storeDirectory)
                restartRequested = true
                finished = true
            } catch {
                logger.error("job \(jobId): cannot ask for a certificate rotation: \(error)")
            }
        case .saveRemoteSettings(let record): remoteSettings.save(record, logger: logger)
        case .setLogLevel(let level): StderrLogHandler.setLevelInForce(Self.level(level))
        case .setWillTopic(let topic): connection?.setStatusTopic(topic)
        case .openStore: send(openStore())
        case .commit(let commit): send(self.commit(commit))
        case .closeStore:
            store?.close()
            store = nil
        case .saveZones(let snapshot): zoneStates.save(snapshot, logger: logger)
        case .saveOdometer(let metres): odometer.save(OdometerReading(metres: metres), logger: logger)
        case .notify(let state): notifier.notify(state)
        case .writeStatus(let status): statusFile.write(status)
        case .removeStatus: statusFile.remove()
        case .finished: finished = true
        case .wake(let at): wakeAt = min(wakeAt ?? at, at)
        case .stopped: stopped = true
        }
    }

    /// A job's download on a thread of its own; progress (at most twice a second) and the end
    /// come back as inputs.
    private func startDownload(jobId: String, url: String) {
        // One download at a time: a new one (another job) stops the old first.
        download?.set()
        let stop = StopFlag()
        download = stop
        let results = self.results
        let job = FileDownload(url: url, caFile: jobsCAFile, path: jobFiles.download(jobId))
        do { try jobFiles.prepare() } catch {
            results(.jobDownloaded(.failed(reason: "\(error)")))
            return
        }
        let started = ReaderThread.start(name: "trackerd-fetch") {
            let last = Mutex<MonotonicInstant?>(nil)
            let outcome = job.run(stop: stop) { bytes, total in
                let due = last.withLock { at -> Bool in
                    guard at.map({ MonotonicInstant.now - $0 >= .milliseconds(500) }) ?? true else { return false }
                    at = MonotonicInstant.now
                    return true
                }
                if due { results(.jobProgress(bytes: bytes, total: total)) }
            }
            switch outcome {
            case .success(let file): results(.jobDownloaded(.complete(size: file.size, sha256: file.sha256)))
            case .failure(.stopped): break  // shutting down: the next start resumes it
            case .failure(let failure): results(.jobDownloaded(.failed(reason: "\(failure)")))
            }
        }
        if !started { results(.jobDownloaded(.failed(reason: "cannot start the download thread"))) }
    }

    /// Stops a download in progress (its partial file stays for the next start).
    func stopWork() {
        download?.set()
    }

    private func publish(_ publications: [Publication]) -> PublishOutcome {
        guard let connection else { return PublishOutcome(sent: [], failure: .notConnected) }
        var sent: [PublishOutcome.Sent] = []
        // A few messages to a TCP segment (the socket corked while they are written): a drain
        // sends one segment where it sent eight, and the broker starts on the first ones while
        // the rest are made (a whole window of 100 in one segment left it idle meanwhile).
        for start in stride(from: 0, to: publications.count, by: Self.messagesPerSegment) {
            let end = min(start + Self.messagesPerSegment, publications.count)
            func publishChunk() -> PublishOutcome.Failure? {
                for publication in publications[start..<end] {
                    switch connection.publish(topic: publication.topic, payload: publication.payload) {
                    case .success(let messageID): sent.append(.init(sequences: publication.sequences, messageID: messageID))
                    case .failure(.notConnected): return .notConnected
                    case .failure(.rejected(let reason)): return .rejected(sequences: publication.sequences, reason: reason)
                    }
                }
                return nil
            }
            // One message goes as it is (TCP_NODELAY): corking it would cost two system calls.
            let failure = end - start > 1 ? connection.corked(publishChunk) : publishChunk()
            if let failure { return PublishOutcome(sent: sent, failure: failure, at: MonotonicInstant.now) }
        }
        // The rate cap counts these from now: other work may have come between deciding and sending.
        return PublishOutcome(sent: sent, at: MonotonicInstant.now)
    }

    private static let messagesPerSegment = 8

    private func openStore() -> EngineInput {
        var opened: SQLiteQueueStore?
        do {
            if mkdir(storeDirectory, 0o700) != 0 && errno != EEXIST {
                throw QueueStoreError.failed(path: storeDirectory, operation: "create the state directory",
                                             detail: String(cString: strerror(errno)))
            }
            let store = try SQLiteQueueStore(path: storeDirectory + "/queue.db")
            opened = store
            var repairs: [OpenedStore.Repair] = []
            if let recovered = store.recovered {
                repairs.append(.init(description: "\(recovered)", event: "queue-store-replaced"))
            }
            if let salvaged = store.salvaged, case .salvaged(_, _, let recovered, let unreadable) = salvaged {
                repairs.append(.init(description: "\(salvaged)", event: "queue-salvaged", recovered: recovered, lost: unreadable))
            }
            let contents = OpenedStore(path: store.path, messages: try store.loadAll(), droppedBefore: try store.droppedTotal(),
                                       repairs: repairs)
            self.store = store
            return .storeOpened(contents)
        } catch {
            opened?.close()
            return .storeOpenFailed(reason: "\(error)")
        }
    }

    private func commit(_ commit: StoreCommit) -> EngineInput {
        guard let store else { return .commitFailed(commit, diskFull: false, reason: "the queue store is closed") }
        do {
            try store.commit(commit.work, droppedTotal: commit.droppedTotal)
            return .committed(commit)
        } catch {
            if case .diskFull = error { return .commitFailed(commit, diskFull: true, reason: "\(error)") }
            return .commitFailed(commit, diskFull: false, reason: "\(error)")
        }
    }

    private static func level(_ level: EngineLogEntry.Level) -> Logger.Level {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
