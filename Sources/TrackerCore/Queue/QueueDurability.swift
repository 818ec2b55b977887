/// When queued messages reach the disk.
public enum QueueDurability: String, Sendable, CaseIterable {
    /// In batches every `commit_interval_s`, only those not acknowledged in time or produced
    /// offline: few writes, so the SD card lasts. A crash loses at most what was not yet
    /// acknowledged of the last `commit_interval` + `spill_after`; offline, one interval; with
    /// a hung broker, one interval + `ackTimeout`.
    case batched
    /// Each message committed on its own as it is produced: nothing is lost, at the cost of a
    /// write per message.
    case everyMessage = "every-message"
}
