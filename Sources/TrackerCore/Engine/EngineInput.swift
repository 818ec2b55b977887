/// Everything that reaches the engine: the source's fixes, the clock, the connection, and the
/// results of the actions it asked for (fed back at once, before the next input).
public enum EngineInput: Sendable, Equatable {
    /// The daemon is up: configuration valid, adapters created.
    case start
    /// One receiver cycle, fix or not.
    case fix(Fix)
    /// The fix source has no more fixes (a replay ended).
    case sourceEnded
    case connection(ConnectionEvent)
    /// The broker acknowledged a `.subscribe`.
    case subscribed(SubscriptionPurpose)
    /// The results of `.jobDownload`, `.jobReadZones`.
    case jobProgress(bytes: Int64, total: Int64?)
    case jobDownloaded(JobRunner.Download)
    case jobZones(jobId: String, Result<[Zone], JobRejection>)
    /// A message on a subscribed topic (the device shadow's replies).
    case message(topic: String, payload: [UInt8])
    /// The result of `.publish`.
    case published(PublishOutcome)
    /// The result of `.openStore`.
    case storeOpened(OpenedStore)
    case storeOpenFailed(reason: String)
    /// The results of `.commit`.
    case committed(StoreCommit)
    case commitFailed(StoreCommit, diskFull: Bool, reason: String)
    /// A graceful stop (SIGTERM): keep what is queued and say goodbye; ends with `.stopped`.
    case stop
    /// The moment a `.wake(at:)` asked for: the engine's timers look whether they are due (an
    /// early or an extra wake does nothing but ask again).
    case wake
}
