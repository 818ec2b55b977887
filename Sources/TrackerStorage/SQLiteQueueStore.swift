#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSQLite
import TrackerCore

/// The outbound queue's disk: one SQLite file in WAL mode.
///
/// It writes only what the queue hands it (`StoreWork`), one transaction per commit, with
/// `synchronous=FULL` so a committed message survives power loss, not only a crash. It is used
/// from one task at a time (the publisher owns it).
public final class SQLiteQueueStore {
    public let path: String
    private var db: OpaquePointer?

    /// Opens (or creates) the database. A file that is not a sound database is renamed
    /// `<path>.corrupt-<ms>` and a fresh one is started: the error is returned for the log.
    public init(path: String) throws(QueueStoreError) {
        self.path = path
        do {
            try openAndCheck()
        } catch let error where Self.isCorruption(error) {
            close()
            let aside = "\(path).corrupt-\(Self.nowMilliseconds())"
            rename(path, aside)
            unlink(path + "-wal")
            unlink(path + "-shm")
            try openAndCheck()
            recovered = .corrupt(path: path, movedTo: aside, detail: error.detailText)
        }
    }

    /// Set when the database had to be replaced at open; the caller logs it.
    public private(set) var recovered: QueueStoreError?

    deinit { close() }

    public func close() {
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    /// Everything stored, oldest first.
    public func loadAll() throws(QueueStoreError) -> [OutboundMessage] {
        let statement = try prepare("SELECT seq, topic, payload FROM messages ORDER BY seq")
        defer { sqlite3_finalize(statement) }
        var out: [OutboundMessage] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure("read", rc) }
            let sequence = sqlite3_column_int64(statement, 0)
            let topic = sqlite3_column_text(statement, 1).map { String(cString: $0) } ?? ""
            let count = Int(sqlite3_column_bytes(statement, 2))
            let bytes = sqlite3_column_blob(statement, 2).map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
            out.append(OutboundMessage(sequence: sequence, topic: topic, payload: bytes))
        }
        return out
    }

    /// One transaction: the inserts and the deletions of `work`, and the drop counter.
    public func commit(_ work: StoreWork, droppedTotal: Int? = nil) throws(QueueStoreError) {
        guard !work.isEmpty || droppedTotal != nil else { return }
        try execute("BEGIN IMMEDIATE")
        do throws(QueueStoreError) {
            if !work.insert.isEmpty {
                let insert = try prepare("INSERT OR REPLACE INTO messages(seq, topic, payload, created_ms) VALUES(?, ?, ?, ?)")
                defer { sqlite3_finalize(insert) }
                let now = Self.nowMilliseconds()
                for message in work.insert {
                    sqlite3_reset(insert)
                    sqlite3_bind_int64(insert, 1, message.sequence)
                    sqlite3_bind_text(insert, 2, message.topic, -1, csqlite_transient())
                    _ = message.payload.withUnsafeBytes {
                        sqlite3_bind_blob(insert, 3, $0.baseAddress, Int32($0.count), csqlite_transient())
                    }
                    sqlite3_bind_int64(insert, 4, now)
                    let rc = sqlite3_step(insert)
                    guard rc == SQLITE_DONE else { throw failure("insert", rc) }
                }
            }
            if !work.delete.isEmpty {
                let delete = try prepare("DELETE FROM messages WHERE seq = ?")
                defer { sqlite3_finalize(delete) }
                for sequence in work.delete {
                    sqlite3_reset(delete)
                    sqlite3_bind_int64(delete, 1, sequence)
                    let rc = sqlite3_step(delete)
                    guard rc == SQLITE_DONE else { throw failure("delete", rc) }
                }
            }
            if let droppedTotal {
                try execute("INSERT OR REPLACE INTO meta(key, value) VALUES('dropped_total', \(droppedTotal))")
            }
            try execute("COMMIT")
        } catch {
            _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    /// Queue statistics as stored: depth, bytes, the oldest message's wall-clock time, drops.
    public func statistics() throws(QueueStoreError) -> (depth: Int, bytes: Int, oldestMilliseconds: Int64?, dropped: Int) {
        let statement = try prepare("SELECT COUNT(*), COALESCE(SUM(LENGTH(payload) + LENGTH(topic)), 0), MIN(created_ms), (SELECT value FROM meta WHERE key = 'dropped_total') FROM messages")
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { throw failure("read statistics", sqlite3_errcode(db)) }
        let oldest = sqlite3_column_type(statement, 2) == SQLITE_NULL ? nil : Optional(sqlite3_column_int64(statement, 2))
        return (Int(sqlite3_column_int64(statement, 0)), Int(sqlite3_column_int64(statement, 1)), oldest,
                Int(sqlite3_column_int64(statement, 3)))
    }

    // MARK: -

    private func openAndCheck() throws(QueueStoreError) {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        db = handle
        guard rc == SQLITE_OK else { throw failure("open", rc) }
        sqlite3_busy_timeout(db, 2000)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        let check = try prepare("PRAGMA quick_check")
        defer { sqlite3_finalize(check) }
        let step = sqlite3_step(check)
        guard step == SQLITE_ROW else { throw failure("check", step) }
        let verdict = sqlite3_column_text(check, 0).map { String(cString: $0) } ?? ""
        guard verdict == "ok" else { throw QueueStoreError.failed(path: path, operation: "check", detail: "corrupt: \(verdict)") }
        try execute("CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, created_ms INTEGER NOT NULL)")
        try execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    }

    private func execute(_ sql: String) throws(QueueStoreError) {
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw failure(String(sql.prefix(24)), rc) }
    }

    private func prepare(_ sql: String) throws(QueueStoreError) -> OpaquePointer? {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard rc == SQLITE_OK else { throw failure("prepare", rc) }
        return statement
    }

    private func failure(_ operation: String, _ rc: Int32) -> QueueStoreError {
        let primary = rc & 0xFF
        if primary == SQLITE_FULL { return .diskFull(path: path) }
        let message = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
        if primary == SQLITE_IOERR && errno == ENOSPC { return .diskFull(path: path) }
        return .failed(path: path, operation: operation, detail: "\(message) (SQLite \(rc))")
    }

    private static func isCorruption(_ error: QueueStoreError) -> Bool {
        guard case .failed(_, _, let detail) = error else { return false }
        return detail.contains("(SQLite 26)") || detail.contains("(SQLite 11)") || detail.hasPrefix("corrupt")
            || detail.contains("malformed") || detail.contains("not a database")
    }

    static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

extension QueueStoreError {
    var detailText: String {
        switch self {
        case .failed(_, _, let detail): detail
        case .corrupt(_, _, let detail): detail
        case .diskFull: "disk full"
        }
    }
}
