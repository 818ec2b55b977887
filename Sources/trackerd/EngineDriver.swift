#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import TrackerCore
import TrackerMQTT
import TrackerStorage
import TrackerSystem

/// Carries out what `TrackerEngine` decides, with the daemon's adapters: the MQTT connection,
/// the queue's SQLite store, the status file, the zones' state file, sd_notify and the log.
/// It decides nothing: every result goes back to the engine as an input, at once.
///
/// Used by one task (`TrackerService`'s loop), never shared.
final class EngineDriver {
    private(set) var engine: TrackerEngine
    private(set) var finished = false
    private(set) var stopped = false
    /// The earliest `.wake` the engine asked for and has not had yet.
    private(set) var wakeAt: ContinuousClock.Instant?
    private let connection: MQTTConnection?
    private var store: SQLiteQueueStore?
    private let storeDirectory: String
    private let statusFile: StatusFile
    private let zoneStates: JSONStateFile<GeofenceSnapshot>
    private let odometer: JSONStateFile<OdometerReading>
    private let remoteSettings: JSONStateFile<RemoteSettingsRecord>
    private let notifier: SystemdNotifier
    private let logger: Logger
    private let clock = ContinuousClock()

    init(engine: TrackerEngine, connection: MQTTConnection?, storeDirectory: String, statusFile: StatusFile,
         zoneStates: JSONStateFile<GeofenceSnapshot>, odometer: JSONStateFile<OdometerReading>,
         remoteSettings: JSONStateFile<RemoteSettingsRecord>, notifier: SystemdNotifier, logger: Logger) {
        self.odometer = odometer
        self.remoteSettings = remoteSettings
        self.engine = engine
        self.connection = connection
        self.storeDirectory = storeDirectory
        self.statusFile = statusFile
        self.zoneStates = zoneStates
        self.notifier = notifier
        self.logger = logger
    }

    func send(_ input: EngineInput) {
        if case .wake = input { wakeAt = nil }
        let actions = engine.handle(input, now: clock.now, wallMilliseconds: WallClock.now().millisecondsSinceEpoch)
        for action in actions { carryOut(action) }
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
        case .subscribed(_, let granted):
            // MQTT 3.1.1 answers a refused topic with 0x80 rather than an error.
            if granted.contains(0x80) {
                logger.error("the broker refused a subscription to the trackerd shadow: does the device policy allow $aws/things/{thing}/shadow/name/trackerd/*?")
            }
            send(EngineInput.subscribed)
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
        case .subscribe(let topics):
            if case .failure(let error) = connection?.subscribe(topics) { logger.warning("cannot follow the trackerd shadow: \(error)") }
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

    private func publish(_ publications: [Publication]) -> PublishOutcome {
        guard let connection else { return PublishOutcome(sent: [], failure: .notConnected) }
        var sent: [PublishOutcome.Sent] = []
        for publication in publications {
            switch connection.publish(topic: publication.topic, payload: publication.payload) {
            case .success(let messageID): sent.append(.init(sequences: publication.sequences, messageID: messageID))
            case .failure(.notConnected): return PublishOutcome(sent: sent, failure: .notConnected)
            case .failure(.rejected(let reason)):
                return PublishOutcome(sent: sent, failure: .rejected(sequences: publication.sequences, reason: reason))
            }
        }
        return PublishOutcome(sent: sent)
    }

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
