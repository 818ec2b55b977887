/// Why the queue's database could not be used, worded for the operator reading the journal.
public enum QueueStoreError: Error, Equatable, CustomStringConvertible {
    /// SQLITE_FULL or ENOSPC: messages stay in memory until space returns.
    case diskFull(path: String)
    /// The file is not a usable database; it was renamed so nothing is lost, and a fresh one started.
    case corrupt(path: String, movedTo: String, detail: String)
    /// Another program's database where the queue belongs; renamed, never deleted.
    case foreign(path: String, movedTo: String, detail: String)
    /// The file was there but empty (0 bytes): whatever it held is gone.
    case emptied(path: String)
    /// The WAL had committed frames that SQLite's recovery would drop (a bad checksum before
    /// them); the WAL was copied to `copy` first.
    case damagedLog(path: String, copy: String, lostFrames: Int, frames: Int)
    /// Messages read back out of a damaged file or log into the store.
    case salvaged(path: String, source: String, recovered: Int, unreadable: Int)
    case failed(path: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case .diskFull(let path):
            "disk full: cannot write the queue to \(path); messages are kept in memory until space returns"
        case .corrupt(let path, let movedTo, let detail):
            "the queue database \(path) is unreadable (\(detail)); moved aside to \(movedTo) and started a new one"
        case .foreign(let path, let movedTo, let detail):
            "\(path) is another program's database (\(detail)); moved aside to \(movedTo) and started a new queue"
        case .damagedLog(let path, let copy, let lost, let frames):
            "the queue's write-ahead log \(path)-wal is damaged: \(lost) of its \(frames) frames hold committed messages that SQLite would drop; copied to \(copy)"
        case .salvaged(let path, let source, let recovered, let unreadable):
            "salvaged \(recovered) messages from \(source) into \(path)"
                + (unreadable == 0 ? "; none unreadable" : "; \(unreadable) could not be read and are lost")
        case .emptied(let path):
            "the queue database \(path) was empty (0 bytes): whatever it held before is lost; starting a new one"
        case .failed(let path, let operation, let detail):
            "queue database \(path): \(operation) failed: \(detail)"
        }
    }
}
