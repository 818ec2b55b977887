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

/// Publishes fixes through the durable queue over one MQTT connection.
///
/// Owned by `TrackerService`'s loop, which calls it one event at a time: the queue decides,
/// the store persists what the queue asks for, the connection sends and acknowledges.
final class FixPublisher {
    let connection: MQTTConnection
    private var queue: OutboundQueue
    private var store: SQLiteQueueStore?
    private var storage = QueueStorageHealth()
    private let storeDirectory: String
    private var messageSequences: [Int32: Int64] = [:]
    private let topic: String
    private let statusTopic: String
    private let deviceID: String
    private let logger: Logger
    private var lastDropReport: ContinuousClock.Instant?
    private var everConnected = false

    init(config: TrackerConfig, deviceID: String, logger: Logger, now: ContinuousClock.Instant) throws {
        self.logger = logger
        self.deviceID = deviceID
        let clientID = config.mqtt.clientID ?? deviceID
        topic = config.mqtt.topic
        statusTopic = config.mqtt.statusTopic.replacing("{clientId}", with: clientID)

        storeDirectory = config.store.directory
        queue = OutboundQueue(policy: config.queue, now: now)

        let settings = MQTTSettings(host: config.mqtt.endpoint ?? "", port: config.mqtt.port, caFile: config.mqtt.caFile,
                                    certFile: config.mqtt.certFile, keyFile: config.mqtt.keyFile, clientID: clientID,
                                    keepalive: config.mqtt.keepalive, protocolVersion5: config.mqtt.protocolVersion == .v5,
                                    alpn: config.mqtt.alpn, statusTopic: statusTopic)
        if let problem = ConnectionDiagnosis.clientCertificateProblem(settings) { logger.warning("\(problem)") }
        connection = try MQTTConnection(settings: settings, logger: logger,
                                        backoff: Backoff(base: config.mqtt.reconnectMin, cap: config.mqtt.reconnectMax))
        if let (store, restored, dropped) = openStore(now: now) {
            self.store = store
            queue = OutboundQueue(policy: config.queue, restored: restored, droppedBefore: dropped, now: now)
            if !restored.isEmpty {
                logger.info("\(restored.count) queued messages from before the restart are sent first")
            }
        }
    }

    var isDrained: Bool { queue.count == 0 }

    /// The part of `trackerd status` that is the publisher's.
    func statusJSON(now: ContinuousClock.Instant) -> String {
        let oldest = queue.oldestEnqueuedAt.map { JSONNumber.fixed(($0.duration(to: now)).seconds, 1) } ?? "null"
        return "{\"endpoint\":\(FixPayload.jsonString(connection.settings.endpoint)),\"clientId\":\(FixPayload.jsonString(connection.settings.clientID)),"
            + "\"connected\":\(connection.isConnected),\"queue\":{\"depth\":\(queue.count),\"bytes\":\(queue.bytes),"
            + "\"oldestAgeSeconds\":\(oldest),\"dropped\":\(queue.droppedTotal)},\"store\":\(storeJSON)}"
    }

    private var storeJSON: String {
        guard let (since, reason) = memoryOnlySince else { return "{\"durable\":true}" }
        return "{\"durable\":false,\"memoryOnlySince\":\"\(since.iso8601)\",\"reason\":\(FixPayload.jsonString(reason))}"
    }

    /// For `systemctl status`: "connected to host:8883 as thing; queue 0".
    var status: String {
        (connection.isConnected ? "connected to \(connection.settings.endpoint) as \(connection.settings.clientID)"
                                : "not connected to \(connection.settings.endpoint)") + "; queue \(queue.count)"
            + (memoryOnlySince.map { " (memory only since \($0.since.iso8601))" } ?? "")
    }
    var depth: Int { queue.count }

    func start() {
        logger.info("publishing to \(connection.settings.endpoint) as \(connection.settings.clientID), topic \(topic)")
        connection.start()
    }

    /// Messages the planner made of a fix: queued in order, then sent as the window allows.
    func enqueue(_ messages: [PublicationPlanner.Message], now: ContinuousClock.Instant) {
        guard !messages.isEmpty else { return }
        for message in messages {
            commit(queue.enqueue(topic: message.topic, payload: Array(message.payload.utf8), now: now, connected: connection.isConnected), now: now)
        }
        pump()
    }

    /// The store, its rows and its drop count; nil (and memory-only, retried with backoff) when
    /// it cannot be opened.
    private func openStore(now: ContinuousClock.Instant) -> (SQLiteQueueStore, [OutboundMessage], Int)? {
        do {
            if mkdir(storeDirectory, 0o700) != 0 && errno != EEXIST {
                throw QueueStoreError.failed(path: storeDirectory, operation: "create the state directory",
                                             detail: String(cString: strerror(errno)))
            }
            let store = try SQLiteQueueStore(path: storeDirectory + "/queue.db")
            if let recovered = store.recovered {
                logger.error("\(recovered)", metadata: ["event": "queue-store-replaced", "path": "\(store.path)"])
            }
            if let salvaged = store.salvaged, case .salvaged(_, _, let recovered, let unreadable) = salvaged {
                logger.warning("\(salvaged)", metadata: ["event": "queue-salvaged", "recovered": "\(recovered)", "lost": "\(unreadable)"])
            }
            return (store, try store.loadAll(), try store.droppedTotal())
        } catch {
            storageFailed(error, now: now)
            return nil
        }
    }

    /// What `trackerd status` and STATUS= say about the disk: nil while durable.
    var memoryOnlySince: (since: UTCTimestamp, reason: String)? {
        guard case .memoryOnly(let since, let reason) = storage.state else { return nil }
        return (UTCTimestamp(millisecondsSinceEpoch: since), reason)
    }

    private func storageFailed(_ error: any Error, now: ContinuousClock.Instant) {
        if storage.failed("\(error)", wallMilliseconds: WallClock.now().millisecondsSinceEpoch, now: now) {
            logger.error("\(error); the queue is kept in memory only (a crash now loses it) until the store works again",
                         metadata: ["event": "queue-memory-only", "reason": "\(error)"])
        } else {
            logger.debug("queue store still unusable: \(error)")
        }
    }

    private func storageSucceeded() {
        guard let (since, _) = storage.succeeded() else { return }
        logger.notice("queue storage recovered: \(storeDirectory)/queue.db is written again (memory only since \(UTCTimestamp(millisecondsSinceEpoch: since).iso8601))",
                      metadata: ["event": "queue-durable"])
    }

    func handle(_ event: MQTTEvent) {
        switch event {
        case .connected:
            everConnected = true
            logger.info("connected to \(connection.settings.endpoint) as \(connection.settings.clientID); queue \(queue.count)",
                        metadata: ["event": "connected", "thing": "\(connection.settings.clientID)", "endpoint": "\(connection.settings.endpoint)"])
            let online = "{\"state\":\"online\",\"deviceId\":\(FixPayload.jsonString(deviceID)),\"queued\":\(queue.count),\"version\":\"\(TrackerCore.version)\"}"
            _ = connection.publish(topic: statusTopic, payload: Array(online.utf8), retain: true)
            pump()
        case .acknowledgementsReady:
            collectAcknowledgements()
            pump()
        case .disconnected(let reason):
            // PUBACKs that came before the connection ended still count: without them those
            // messages would be sent again.
            collectAcknowledgements()
            logger.warning("disconnected from \(connection.settings.endpoint): \(reason)",
                           metadata: ["event": "disconnected", "reason": "\(reason)", "endpoint": "\(connection.settings.endpoint)"])
            queue.connectionLost()
            messageSequences.removeAll()
        case .connectionFailed(let reason):
            collectAcknowledgements()
            logger.error("cannot connect to \(connection.settings.endpoint): \(reason)")
            queue.connectionLost()
            messageSequences.removeAll()
        case .subscribed, .message:
            break
        case .retrying(let delay):
            logger.info("reconnecting to \(connection.settings.endpoint) in \(JSONNumber.fixed(delay.seconds, 2)) s")
        }
    }

    private func collectAcknowledgements() {
        let now = ContinuousClock.now
        for messageID in connection.takeAcknowledged() {
            if let sequence = messageSequences.removeValue(forKey: messageID) { queue.acknowledge(sequence, now: now) }
        }
    }

    func tick(now: ContinuousClock.Instant) {
        if store == nil, storage.openIsDue(now: now), let (store, stored, dropped) = openStore(now: now) {
            self.store = store
            let work = queue.adopt(stored, droppedBefore: dropped, now: now)
            if !work.insert.isEmpty {
                logger.notice("\(work.insert.count) messages found in \(store.path) join the queue after the \(queue.count - work.insert.count) queued meanwhile")
            }
            commit(work, now: now, always: true)
        }
        commit(queue.due(now: now), now: now)
        if lastDropReport.map({ now - $0 >= .seconds(60) }) ?? true, let dropped = queue.takeDropReport() {
            lastDropReport = now
            logger.warning("queue full: dropped the \(dropped) oldest messages (\(queue.droppedTotal) since start); queue \(queue.count) messages, \(queue.bytes) bytes",
                           metadata: ["event": "queue-overflow", "dropped": "\(dropped)"])
        }
    }

    /// Clean shutdown: what is still only in memory goes to disk, then the connection closes.
    func shutdown() async {
        commit(queue.flushAll(), now: ContinuousClock.now, always: true)
        if let dropped = queue.takeDropReport() {
            logger.warning("queue full: dropped the \(dropped) oldest messages (\(queue.droppedTotal) since start)")
        }
        if connection.isConnected {
            _ = connection.publish(topic: statusTopic, payload: Array(#"{"state":"offline"}"#.utf8), retain: true)
        }
        await connection.shutdown()
        store?.close()
        if queue.count > 0 { logger.info("\(queue.count) messages stay queued for the next start") }
    }

    private func pump() {
        guard connection.isConnected else { return }
        for message in queue.nextToSend(now: ContinuousClock.now) {
            switch connection.publish(topic: message.topic, payload: message.payload) {
            case .success(let messageID):
                messageSequences[messageID] = message.sequence
            case .failure(.notConnected):
                queue.connectionLost()
                messageSequences.removeAll()
                return
            case .failure(.rejected(let reason)):
                logger.error("publish of message \(message.sequence) rejected: \(reason)")
                queue.connectionLost()
                return
            }
        }
    }

    /// `always`: write even without messages, so the drop count reaches the disk.
    /// A full disk keeps the store (space may return: the next commit tries again) and tries
    /// the deletions alone, which need little space and free some; any other error closes it,
    /// and it is reopened with backoff (a damaged file is then moved aside and replaced).
    private func commit(_ work: StoreWork, now: ContinuousClock.Instant, always: Bool = false) {
        guard let store, !work.isEmpty || always else {
            if store == nil && !work.isEmpty { queue.commitFailed(work) }
            return
        }
        do {
            try store.commit(work, droppedTotal: queue.droppedTotal)
            queue.committed(work)
            logger.debug("queue committed: \(work.insert.count) written, \(work.delete.count) removed; \(queue.count) queued")
            storageSucceeded()
        } catch {
            queue.commitFailed(work)
            if case .diskFull = error {
                let deletes = queue.takeDeletes()
                if !deletes.isEmpty {
                    do {
                        try store.commit(deletes)
                        queue.committed(deletes)
                    } catch {
                        queue.commitFailed(deletes)
                    }
                }
            } else {
                store.close()
                self.store = nil
            }
            storageFailed(error, now: now)
        }
    }
}
