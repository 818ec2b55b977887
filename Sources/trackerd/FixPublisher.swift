#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import TrackerCore
import TrackerMQTT
import TrackerStorage

/// Publishes fixes through the durable queue over one MQTT connection.
///
/// Owned by `TrackerService`'s loop, which calls it one event at a time: the queue decides,
/// the store persists what the queue asks for, the connection sends and acknowledges.
final class FixPublisher {
    let connection: MQTTConnection
    private var queue: OutboundQueue
    private var store: SQLiteQueueStore?
    private var storeDegraded = false
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

        var restored: [OutboundMessage] = []
        let directory = config.store.directory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            logger.error("cannot create the state directory \(directory): \(String(cString: strerror(errno))); the queue is kept in memory only")
        } else {
            do {
                let store = try SQLiteQueueStore(path: directory + "/queue.db")
                if let recovered = store.recovered { logger.error("\(recovered)") }
                restored = try store.loadAll()
                self.store = store
                if !restored.isEmpty {
                    logger.info("\(restored.count) queued messages from before the restart are sent first")
                }
            } catch {
                logger.error("\(error); the queue is kept in memory only")
            }
        }
        queue = OutboundQueue(policy: config.queue, restored: restored, now: now)

        let settings = MQTTSettings(host: config.mqtt.endpoint ?? "", port: config.mqtt.port, caFile: config.mqtt.caFile,
                                    certFile: config.mqtt.certFile, keyFile: config.mqtt.keyFile, clientID: clientID,
                                    keepalive: config.mqtt.keepalive, protocolVersion5: config.mqtt.protocolVersion == .v5,
                                    alpn: config.mqtt.alpn, statusTopic: statusTopic)
        if let problem = ConnectionDiagnosis.clientCertificateProblem(settings) { logger.warning("\(problem)") }
        connection = try MQTTConnection(settings: settings, logger: logger,
                                        backoff: Backoff(base: config.mqtt.reconnectMin, cap: config.mqtt.reconnectMax))
    }

    var isDrained: Bool { queue.count == 0 }

    /// The part of `trackerd status` that is the publisher's.
    func statusJSON(now: ContinuousClock.Instant) -> String {
        let oldest = queue.oldestEnqueuedAt.map { JSONNumber.fixed(($0.duration(to: now)).seconds, 1) } ?? "null"
        return "{\"endpoint\":\(FixPayload.jsonString(connection.settings.endpoint)),\"clientId\":\(FixPayload.jsonString(connection.settings.clientID)),"
            + "\"connected\":\(connection.isConnected),\"queue\":{\"depth\":\(queue.count),\"bytes\":\(queue.bytes),"
            + "\"oldestAgeSeconds\":\(oldest),\"dropped\":\(queue.droppedTotal)}}"
    }

    /// For `systemctl status`: "connected to host:8883 as thing; queue 0".
    var status: String {
        (connection.isConnected ? "connected to \(connection.settings.endpoint) as \(connection.settings.clientID)"
                                : "not connected to \(connection.settings.endpoint)") + "; queue \(queue.count)"
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
            commit(queue.enqueue(topic: message.topic, payload: Array(message.payload.utf8), now: now, connected: connection.isConnected))
        }
        pump()
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
            for messageID in connection.takeAcknowledged() {
                if let sequence = messageSequences.removeValue(forKey: messageID) { queue.acknowledge(sequence) }
            }
            pump()
        case .disconnected(let reason):
            logger.warning("disconnected from \(connection.settings.endpoint): \(reason)",
                           metadata: ["event": "disconnected", "reason": "\(reason)", "endpoint": "\(connection.settings.endpoint)"])
            queue.connectionLost()
            messageSequences.removeAll()
        case .connectionFailed(let reason):
            logger.error("cannot connect to \(connection.settings.endpoint): \(reason)")
            queue.connectionLost()
            messageSequences.removeAll()
        case .subscribed, .message:
            break
        case .retrying(let delay):
            logger.info("reconnecting to \(connection.settings.endpoint) in \(JSONNumber.fixed(delay.seconds, 2)) s")
        }
    }

    func tick(now: ContinuousClock.Instant) {
        commit(queue.due(now: now))
        if lastDropReport.map({ now - $0 >= .seconds(60) }) ?? true, let dropped = queue.takeDropReport() {
            lastDropReport = now
            logger.warning("queue full: dropped the \(dropped) oldest messages (\(queue.droppedTotal) since start); queue \(queue.count) messages, \(queue.bytes) bytes",
                           metadata: ["event": "queue-overflow", "dropped": "\(dropped)"])
        }
    }

    /// Clean shutdown: what is still only in memory goes to disk, then the connection closes.
    func shutdown() async {
        commit(queue.flushAll(), always: true)
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
        for message in queue.nextToSend() {
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
    private func commit(_ work: StoreWork, always: Bool = false) {
        guard let store, !work.isEmpty || always else {
            if store == nil && !work.isEmpty { queue.commitFailed(work) }
            return
        }
        do {
            try store.commit(work, droppedTotal: queue.droppedTotal)
            queue.committed(work)
            logger.debug("queue committed: \(work.insert.count) written, \(work.delete.count) removed; \(queue.count) queued")
            if storeDegraded {
                storeDegraded = false
                logger.notice("queue storage recovered: \(store.path) is written again")
            }
        } catch {
            queue.commitFailed(work)
            if !storeDegraded {
                storeDegraded = true
                logger.error("\(error)")
            }
        }
    }
}
