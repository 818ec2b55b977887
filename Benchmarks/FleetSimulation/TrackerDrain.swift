import TrackerCore

/// One tracker's drain once it is connected again, as `trackerd run` does it: trackerd's
/// `OutboundQueue` holding what its planner produced while offline (the newest fix promoted,
/// events and live fixes next, the backlog in `backlog_batch` batches, `max_inflight` in
/// flight), paced by its `PublishRateCap`; the broker's PUBACK comes a round trip after each
/// publish. It exists only while the tracker drains, so a million trackers hold a few
/// thousand queues at a time.
struct TrackerDrain {
    var queue: OutboundQueue
    var cap: PublishRateCap
    /// Publishes not yet acknowledged: when the PUBACK arrives (ns) and what it carries.
    var inflight: [(ack: Int64, sequences: [Int64])] = []
    /// The drive's messages taken into the queue so far.
    var fed = 0
    /// trackerd's retained "online" message, sent before the queue's first publish.
    var presencePending = true
    let drive: Int
}
