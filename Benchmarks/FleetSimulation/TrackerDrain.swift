import TrackerCore

/// One tracker's drain once it is connected again, as `trackerd run` does it: trackerd's
/// `OutboundQueue` holding what its planner produced while offline (the newest fix promoted,
/// events and live fixes next, the backlog in `backlog_batch` batches, `max_inflight` in
/// flight), paced by its `PublishRateCap` after the retained "online" message; the broker's
/// PUBACK comes a round trip after each publish. It exists only while the tracker drains, so a
/// million trackers hold a few thousand queues at a time.
struct TrackerDrain {
    private let settings: EngineSettings.Publishing
    private(set) var queue: OutboundQueue
    private var cap: PublishRateCap
    /// Publishes not yet acknowledged: when the PUBACK arrives (ns) and what it carries.
    private var inflight: [(ack: Int64, sequences: [Int64])] = []
    /// The drive's messages taken into the queue so far.
    private var fed = 0
    /// trackerd's retained "online" message, sent before the queue's first publish.
    private var presencePending = true
    /// The cap ran out at the last publish with something still to send.
    private var heldBack = false
    let drive: Int

    init(settings: EngineSettings.Publishing, drive: Int, now: MonotonicInstant) {
        self.settings = settings
        self.drive = drive
        queue = OutboundQueue(policy: settings.queue, now: now, telemetryTopic: settings.backlog.telemetryTopic)
        cap = PublishRateCap(rate: settings.maxPublishRate)
    }

    var isDone: Bool { queue.count == 0 && inflight.isEmpty && !presencePending }

    /// The drive's messages through `second` not taken yet, queued as produced offline (at
    /// `instant` of their own second) or live.
    mutating func take(_ messages: [FleetTraffic.Message], through second: Int, connected: Bool,
                       at instant: (Int32) -> MonotonicInstant) {
        while fed < messages.count, Int(messages[fed].second) <= second {
            let message = messages[fed]
            _ = queue.enqueue(topic: message.topic, payload: message.payload, now: instant(message.second), connected: connected)
            fed += 1
        }
    }

    /// The reconnect: the newest fix goes before the backlog.
    mutating func connected() {
        queue.promoteNewestFix(telemetryTopic: settings.backlog.telemetryTopic)
    }

    /// The PUBACKs due by `time`; returns the messages they acknowledge.
    mutating func acknowledge(by time: Int64, now: MonotonicInstant) -> Int {
        var delivered = 0
        while let first = inflight.first, first.ack <= time {
            queue.acknowledge(publication: first.sequences, now: now)
            delivered += first.sequences.count
            inflight.removeFirst()
        }
        return delivered
    }

    /// What the cap and the window allow now, as trackerd's pump sends it; returns the publishes.
    mutating func publish(at time: Int64, now: MonotonicInstant, roundTrip: Int64) -> Int {
        var tokens = cap.available(now: now)
        var sent = 0
        if presencePending && tokens > 0 {
            presencePending = false
            cap.spend(1, now: now)
            tokens -= 1
            sent += 1
        }
        let publications = queue.nextPublications(now: now, limit: tokens, backlog: settings.backlog)
        cap.spend(publications.count, now: now)
        for publication in publications { inflight.append((time + roundTrip, publication.sequences)) }
        heldBack = (queue.count > queue.inflightCount || presencePending) && publications.count == tokens
        return sent + publications.count
    }

    /// When to look again (ns on `origin`'s clock): the next PUBACK, or the cap's next token if
    /// it held messages back.
    func nextWake(now: MonotonicInstant, origin: MonotonicInstant) -> Int64? {
        var next = inflight.first?.ack
        if heldBack, let token = cap.nextToken(now: now) {
            next = min(next ?? .max, (token - origin).nanoseconds)
        }
        return next
    }
}
