/// The engine's publishing half: the outbound queue, its store's health, the connection's
/// state, the publish-rate cap and the message ids in flight. Exists only with an MQTT endpoint.
///
/// Every publish spends a token of the cap — fixes, backlog batches, events and the presence
/// messages alike; what the cap holds back goes out when it has a token again (`nextWake`).
struct MessageDelivery: Sendable {
    private(set) var settings: EngineSettings.Publishing
    private(set) var queue: OutboundQueue
    private(set) var storeOpen = false
    /// An `.openStore` is out and its answer not yet in: no wake for the retry meanwhile.
    private var openAsked = false
    /// Until the first open has answered, the store's contents replace the (empty) queue
    /// rather than being merged into it.
    private var firstOpen = true
    private(set) var storage: QueueStorageHealth
    private(set) var connected = false
    private var messageSequences: [Int32: [Int64]] = [:]
    private var lastDropReport: MonotonicInstant?
    private var cap: PublishRateCap
    /// Messages outside the queue waiting for a token, in order: presence (retained) and the
    /// shadow's requests. Lost with the connection: each is made again at the next one.
    private var outside: [(topic: String, payload: [UInt8], retained: Bool)] = []
    /// Messages ready to go that the cap held back at the last pump.
    private(set) var heldBack = 0
    /// A `.stop` waits for a token to say "offline".
    private(set) var stopping = false
    /// When the cap has a token for what it holds back (or for a stop's "offline").
    private var capWake: MonotonicInstant?

    init(settings: EngineSettings.Publishing, storeRetry: Backoff, now: MonotonicInstant) {
        self.settings = settings
        queue = OutboundQueue(policy: settings.queue, now: now, telemetryTopic: settings.backlog.telemetryTopic)
        storage = QueueStorageHealth(retry: storeRetry)
        cap = PublishRateCap(rate: settings.maxPublishRate)
    }

    func status(now: MonotonicInstant) -> TrackerStatus.MQTT {
        let store: TrackerStatus.Store
        if case .memoryOnly(let since, let reason) = storage.state {
            store = .init(durable: false, memoryOnlySince: UTCTimestamp(millisecondsSinceEpoch: since).iso8601, reason: reason)
        } else {
            store = .init(durable: true)
        }
        let oldest = queue.oldestEnqueuedAt.map { ($0.duration(to: now).seconds * 10).rounded() / 10 }
        return TrackerStatus.MQTT(endpoint: settings.endpoint, clientId: settings.clientID, connected: connected,
                                  queue: .init(depth: queue.count, bytes: queue.bytes, oldestAgeSeconds: oldest, dropped: queue.droppedTotal),
                                  store: store, publishRate: .init(cap: cap.rate, heldBack: connected ? heldBack : 0))
    }

    // MARK: - messages

    /// The planner's messages for one fix: queued in order, then sent as the window allows.
    mutating func enqueue(_ messages: [PublicationPlanner.Message], now: MonotonicInstant, _ out: inout [EngineAction]) {
        guard !messages.isEmpty else { return }
        for message in messages {
            commit(queue.enqueue(topic: message.topic, payload: Array(message.payload.utf8), now: now, connected: connected), &out)
        }
        pump(now: now, &out)
    }

    /// Sends what the window and the cap allow: a waiting presence message first, then the
    /// queue's publications (newest fix, events and live fixes, then backlog batches).
    mutating func pump(now: MonotonicInstant, _ out: inout [EngineAction]) {
        guard connected else { return }
        var tokens = cap.available(now: now)
        while tokens > 0, !outside.isEmpty {
            let message = outside.removeFirst()
            out.append(message.retained ? .announce(topic: message.topic, payload: message.payload)
                                        : .request(topic: message.topic, payload: message.payload))
            cap.spend(1, now: now)
            tokens -= 1
        }
        let publications = queue.nextPublications(now: now, limit: tokens, backlog: settings.backlog)
        cap.spend(publications.count, now: now)
        if !publications.isEmpty { out.append(.publish(publications)) }
        let waiting = queue.count - queue.inflightCount + outside.count
        let windowOpen = queue.inflightPublications < settings.queue.maxInflight
        if waiting > 0 && windowOpen && tokens == publications.count, let back = cap.nextToken(now: now) {
            heldBack = waiting
            capWake = back
        } else {
            heldBack = 0
            capWake = nil
        }
    }

    mutating func published(_ outcome: PublishOutcome, _ out: inout [EngineAction]) {
        for sent in outcome.sent { messageSequences[sent.messageID] = sent.sequences }
        if let at = outcome.at { cap.restamp(last: outcome.sent.count, at: at) }
        switch outcome.failure {
        case nil: break
        case .notConnected: lost()
        case .rejected(let sequences, let reason):
            let what = sequences.count == 1 ? "message \(sequences[0])" : "a batch of \(sequences.count) messages"
            out.log(.error, "publish of \(what) rejected: \(reason)")
            queue.connectionLost()
        }
    }

    mutating func connection(_ event: ConnectionEvent, deviceID: String, now: MonotonicInstant, _ out: inout [EngineAction]) {
        let endpoint = settings.endpoint, clientID = settings.clientID
        switch event {
        case .connected:
            connected = true
            out.log(.info, "connected to \(endpoint) as \(clientID); queue \(queue.count)",
                    ["event": "connected", "thing": clientID, "endpoint": endpoint])
            outside = [(settings.statusTopic, online(deviceID: deviceID), true)]
            // The current position before an hour of history.
            queue.promoteNewestFix(telemetryTopic: settings.backlog.telemetryTopic)
            pump(now: now, &out)
        case .acknowledged(let ids):
            for messageID in ids {
                if let sequences = messageSequences.removeValue(forKey: messageID) { queue.acknowledge(publication: sequences, now: now) }
            }
            pump(now: now, &out)
        case .disconnected(let reason):
            out.log(.warning, "disconnected from \(endpoint): \(reason)", ["event": "disconnected", "reason": reason, "endpoint": endpoint])
            lost()
        case .connectionFailed(let reason):
            out.log(.error, "cannot connect to \(endpoint): \(reason)")
            lost()
        case .retrying(let delay):
            out.log(.info, "reconnecting to \(endpoint) in \(JSONNumber.fixed(delay.seconds, 2)) s")
        }
    }

    /// A wire payload, byte for byte what the original presence message was.
    private func online(deviceID: String) -> [UInt8] {
        let certificate = settings.certificateId.map { ",\"certificateId\":" + FixPayload.jsonString($0) } ?? ""
        return Array("{\"state\":\"online\",\"deviceId\":\(FixPayload.jsonString(deviceID)),\"queued\":\(queue.count),\"version\":\"\(settings.version)\"\(certificate)}".utf8)
    }

    /// A message outside the queue (a shadow request), sent as the cap allows while connected.
    mutating func request(topic: String, payload: [UInt8], now: MonotonicInstant, _ out: inout [EngineAction]) {
        guard connected else { return }
        outside.append((topic, payload, false))
        pump(now: now, &out)
    }

    /// Presence moves to `topic`: the old topic's retained message is cleared (an empty retained
    /// message deletes it) and the new one says online.
    mutating func moveStatus(to topic: String, deviceID: String, now: MonotonicInstant, _ out: inout [EngineAction]) {
        let old = settings.statusTopic
        settings.statusTopic = topic
        guard connected else { return }
        outside.append((old, [], true))
        outside.append((topic, online(deviceID: deviceID), true))
        pump(now: now, &out)
    }

    /// Everything in flight will be sent again, in order, on the next connection.
    private mutating func lost() {
        connected = false
        outside = []
        heldBack = 0
        capWake = nil
        queue.connectionLost()
        messageSequences.removeAll()
    }

    // MARK: - routine work and stop

    /// The earliest moment `timers` has work: the cap's next token for what it holds back, a
    /// commit, a retry of the store, a drop report. nil: none (an idle tracker sleeps).
    func nextWake(now: MonotonicInstant, dropReportInterval: Duration) -> MonotonicInstant? {
        var at = capWake
        func earliest(_ instant: MonotonicInstant?) {
            if let instant { at = min(at ?? instant, instant) }
        }
        earliest(queue.nextCommitAt)
        if !storeOpen && !stopping && !openAsked { earliest(storage.retryAt) }
        if queue.hasUnreportedDrops { earliest(lastDropReport.map { $0 + dropReportInterval } ?? now) }
        return at
    }

    /// What time brings: the cap's tokens, commits, a retry of the store, the drop report.
    mutating func timers(now: MonotonicInstant, dropReportInterval: Duration, _ out: inout [EngineAction]) {
        if !storeOpen && storage.openIsDue(now: now) {
            openAsked = true
            out.append(.openStore)
        }
        pump(now: now, &out)
        commit(queue.due(now: now), &out)
        if lastDropReport.map({ now - $0 >= dropReportInterval }) ?? true, let dropped = queue.takeDropReport() {
            lastDropReport = now
            out.log(.warning, "queue full: dropped the \(dropped) oldest messages (\(queue.droppedTotal) since start); queue \(queue.count) messages, \(queue.bytes) bytes",
                    ["event": "queue-overflow", "dropped": "\(dropped)"])
        }
    }

    /// What is still only in memory goes to disk; then, once the cap has a token, the presence
    /// topic says offline and the store closes (`finishStop`).
    mutating func stop(now: MonotonicInstant, _ out: inout [EngineAction]) {
        stopping = true
        commit(queue.flushAll(), always: true, &out)
        if let dropped = queue.takeDropReport() {
            out.log(.warning, "queue full: dropped the \(dropped) oldest messages (\(queue.droppedTotal) since start)")
        }
        finishStop(now: now, &out)
    }

    /// The rest of a stop; true when it is done, false when it waits for the cap's next token.
    @discardableResult
    mutating func finishStop(now: MonotonicInstant, _ out: inout [EngineAction]) -> Bool {
        guard stopping else { return true }
        capWake = nil
        if connected {
            if cap.available(now: now) == 0, let back = cap.nextToken(now: now) {
                capWake = back
                return false
            }
            cap.spend(1, now: now)
            out.append(.announce(topic: settings.statusTopic, payload: Array(#"{"state":"offline"}"#.utf8)))
        }
        stopping = false
        out.append(.closeStore)
        storeOpen = false
        if queue.count > 0 { out.log(.info, "\(queue.count) messages stay queued for the next start") }
        return true
    }

    // MARK: - the store

    /// `always`: write even without messages, so the drop count reaches the disk.
    private mutating func commit(_ work: StoreWork, always: Bool = false, _ out: inout [EngineAction]) {
        guard storeOpen else {
            if !work.isEmpty { queue.commitFailed(work) }
            return
        }
        guard !work.isEmpty || always else { return }
        out.append(.commit(StoreCommit(work: work, droppedTotal: queue.droppedTotal, purpose: .batch)))
    }

    mutating func committed(_ commit: StoreCommit, _ out: inout [EngineAction]) {
        queue.committed(commit.work)
        out.log(.debug, "queue committed: \(commit.work.insert.count) written, \(commit.work.delete.count) removed; \(queue.count) queued")
        if commit.purpose == .batch, let (since, _) = storage.succeeded() {
            out.log(.notice, "queue storage recovered: \(settings.storePath) is written again (memory only since \(UTCTimestamp(millisecondsSinceEpoch: since).iso8601))",
                    ["event": "queue-durable"])
        }
    }

    /// A full disk keeps the store (space may return: the next commit tries again) and tries
    /// the deletions alone, which need little space and free some; any other error closes it,
    /// and it is reopened with backoff (a damaged file is then moved aside and replaced).
    mutating func commitFailed(_ commit: StoreCommit, diskFull: Bool, reason: String, now: MonotonicInstant,
                               wallMilliseconds: Int64, random: inout SplitMix64, _ out: inout [EngineAction]) {
        queue.commitFailed(commit.work)
        guard commit.purpose == .batch else { return }
        if diskFull {
            let deletes = queue.takeDeletes()
            if !deletes.isEmpty { out.append(.commit(StoreCommit(work: deletes, droppedTotal: nil, purpose: .deletionsOnly))) }
        } else {
            out.append(.closeStore)
            storeOpen = false
        }
        storageFailed(reason, now: now, wallMilliseconds: wallMilliseconds, random: &random, &out)
    }

    mutating func storeOpened(_ store: OpenedStore, now: MonotonicInstant, _ out: inout [EngineAction]) {
        for repair in store.repairs {
            var metadata = ["event": repair.event, "path": store.path]
            if let recovered = repair.recovered { metadata["recovered"] = "\(recovered)" }
            if let lost = repair.lost { metadata["lost"] = "\(lost)" }
            out.log(repair.event == "queue-salvaged" ? .warning : .error, repair.description, metadata)
        }
        storeOpen = true
        openAsked = false
        if firstOpen {
            firstOpen = false
            queue = OutboundQueue(policy: settings.queue, restored: store.messages, droppedBefore: store.droppedBefore, now: now,
                                  telemetryTopic: settings.backlog.telemetryTopic)
            if !store.messages.isEmpty {
                out.log(.info, "\(store.messages.count) queued messages from before the restart are sent first")
            }
            return
        }
        let work = queue.adopt(store.messages, droppedBefore: store.droppedBefore, now: now)
        if !work.insert.isEmpty {
            out.log(.notice, "\(work.insert.count) messages found in \(store.path) join the queue after the \(queue.count - work.insert.count) queued meanwhile")
        }
        commit(work, always: true, &out)
    }

    /// A store that would not open or would not write: memory only, told once, retried with backoff.
    mutating func storageFailed(_ reason: String, now: MonotonicInstant, wallMilliseconds: Int64,
                                random: inout SplitMix64, _ out: inout [EngineAction]) {
        firstOpen = false
        openAsked = false
        if storage.failed(reason, wallMilliseconds: wallMilliseconds, now: now, random: &random) {
            out.log(.error, "\(reason); the queue is kept in memory only (a crash now loses it) until the store works again",
                    ["event": "queue-memory-only", "reason": reason])
        } else {
            out.log(.debug, "queue store still unusable: \(reason)")
        }
    }
}
