/// What the engine asks the executable to do. Actions that have a result (`publish`,
/// `openStore`, `commit`) are answered with the matching `EngineInput` before anything else.
public enum EngineAction: Sendable, Equatable {
    case log(EngineLogEntry)
    /// Publications (single messages and backlog batches), in order, at QoS 1; answered with
    /// `.published`.
    case publish([Publication])
    /// A retained presence message on the status topic, outside the queue (nothing to answer).
    case announce(topic: String, payload: [UInt8])
    /// A request to the device shadow, outside the queue and not retained (nothing to answer).
    case request(topic: String, payload: [UInt8])
    /// Subscribe (QoS 1) to a service's topics; the broker's SUBACK comes as `.subscribed`.
    case subscribe(SubscriptionPurpose, [String])
    /// Keep the jobs' ledger (atomically) before anything else.
    case jobSave(JobLedger)
    /// Fetch the job's file (resuming a partial one); progress comes as `.jobProgress`, the end
    /// as `.jobDownloaded`.
    case jobDownload(jobId: String, url: String, size: Int64?)
    /// Hand the verified package to the update unit.
    case jobInstall(jobId: String, version: String)
    /// Read the verified zone set; the zones (or why not) come as `.jobZones`.
    case jobReadZones(jobId: String)
    /// The job's zone set is in force: keep it for the next start.
    case keepJobZones(jobId: String)
    /// The job's files are no longer needed.
    case jobRemoveFiles(jobId: String)
    /// A rotate-certificate job: ask for a rotation at the next start, and restart.
    case jobRotateCertificate(jobId: String)
    /// Keep the applied shadow settings for the next start, offline included.
    case saveRemoteSettings(RemoteSettingsRecord)
    /// The log level in force changed (the shadow's `log_level`, or back to the command line's).
    case setLogLevel(EngineLogEntry.Level)
    /// The presence topic changed: the last will names it from the next connection on.
    case setWillTopic(String)
    /// Open (or reopen) the queue's store; answered with `.storeOpened` or `.storeOpenFailed`.
    case openStore
    /// Answered with `.committed` or `.commitFailed`.
    case commit(StoreCommit)
    /// The store failed in a way that needs a fresh open: close it.
    case closeStore
    /// Keep the zones' states for the next start.
    case saveZones(GeofenceSnapshot)
    /// Keep the odometer (metres, all time) for the next start.
    case saveOdometer(Double)
    /// An sd_notify datagram (READY=1, STATUS=..., WATCHDOG=1, STOPPING=1).
    case notify(String)
    case writeStatus(TrackerStatus)
    case removeStatus
    /// The source ended and every queued message is acknowledged: the run is over.
    case finished
    /// Stop, to be started again for work that comes before the connection (renewing the
    /// certificate): `run` exits 75, and systemd starts it again.
    case restart(reason: String)
    /// Send `.wake` at this instant: the engine's next timer (the rate cap has a token again, a
    /// commit or the status is due, the fix goes stale...). The driver keeps the earliest asked
    /// for and forgets it once delivered; the engine asks again after each.
    case wake(at: MonotonicInstant)
    /// The stop that `.stop` began is complete: the store is closed, "offline" was said.
    case stopped
}
