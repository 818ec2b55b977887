#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSQLite
import TrackerCore
import TrackerSystem

/// The outbound queue's disk: one SQLite file in WAL mode.
///
/// It writes only what the queue hands it (`StoreWork`), one transaction per commit, with
/// `synchronous=FULL` so a committed message survives power loss, not only a crash. It is used
/// from one task at a time (`EngineDriver` owns it in `run`).
///
/// Small pages and a WAL checkpointed every `walCheckpointPages` keep the files close to the
/// messages' own size, so a nearly full SD card still holds thousands of fixes with
/// `every-message` durability (a 4 KiB page per commit and SQLite's default 1,000-page WAL
/// filled 256 KiB with 15 messages).
public final class SQLiteQueueStore {
    public let path: String
    private var db: OpaquePointer?
    private let readOnly: Bool
    private var storedDropped: Int?
    /// The file carries our `application_id` already.
    private var marked = false

    /// Pages of a new database: a fix is about 100 bytes.
    static let pageSize = 1024
    /// WAL pages before a checkpoint folds them into the database and the WAL starts over.
    static let walCheckpointPages = 32
    /// What a checkpointed WAL is cut back to.
    static let walSizeLimit = 64 * 1024
    /// `PRAGMA application_id` of our files ("TRKQ"), so a foreign database is told apart.
    static let applicationID: Int32 = 0x5452_4B51

    /// Opens (or creates) the database. A file that is not a sound database is renamed
    /// `<path>.corrupt-<ms>` (its WAL beside it), one of another program's schema
    /// `<path>.foreign-<ms>`, and a fresh one is started: `recovered` says so for the log.
    /// Nothing is ever deleted. `readOnly` (for `trackerd queue stats`) changes nothing on
    /// disk and reports what it finds as an error instead.
    public init(path: String, readOnly: Bool = false) throws(QueueStoreError) {
        self.path = path
        self.readOnly = readOnly
        if readOnly {
            try openReadOnly()
            return
        }
        let emptyFile = Self.fileSize(path) == 0 && (Self.fileSize(path + "-wal") ?? 0) == 0
        let stamp = WallClock.now().millisecondsSinceEpoch
        // Before SQLite opens the file: its recovery drops WAL frames after a bad checksum
        // without a word, committed transactions included.
        var salvage = QueueSalvage()
        var salvagedFrom: String?
        if let walBytes = try? FileReader.readAll(path + "-wal"), let wal = SQLiteWAL(walBytes), !wal.lostFrames.isEmpty {
            let copy = "\(path)-wal.damaged-\(stamp)"
            try? CredentialStore.write(walBytes, to: copy, mode: 0o600)
            salvage.scanFrames(walBytes, wal.lostFrames, pageSize: wal.pageSize)
            salvagedFrom = copy
            recovered = .damagedLog(path: path, copy: copy, lostFrames: wal.lostFrames.count, frames: wal.frames.count)
        }
        do {
            try openAndCheck()
        } catch let error where Self.isCorruption(error) || error.isForeign {
            close()
            let aside = "\(path).\(error.isForeign ? "foreign" : "corrupt")-\(stamp)"
            rename(path, aside)
            rename(path + "-wal", aside + "-wal")
            unlink(path + "-shm")
            try openAndCheck()
            if error.isForeign {
                recovered = .foreign(path: path, movedTo: aside, detail: error.detailText)
            } else {
                recovered = .corrupt(path: path, movedTo: aside, detail: error.detailText)
                salvage = Self.salvage(aside)
                salvagedFrom = aside
            }
        }
        if emptyFile { recovered = recovered ?? .emptied(path: path) }
        if let salvagedFrom {
            let present = Set(try loadAll().map(\.sequence))
            let missing = salvage.sorted.filter { !present.contains($0.sequence) }
            try commit(StoreWork(insert: missing))
            salvaged = .salvaged(path: path, source: salvagedFrom, recovered: missing.count, unreadable: salvage.unreadable)
        }
    }

    /// Set when the database was found damaged, foreign or empty at open; the caller logs it.
    public private(set) var recovered: QueueStoreError?
    /// What was read back out of a damaged file or log into the new store; the caller logs it.
    public private(set) var salvaged: QueueStoreError?

    /// Every message readable in a moved-aside database and its WAL (all frames of the current
    /// generation: the file around them is what failed).
    static func salvage(_ database: String) -> QueueSalvage {
        var salvage = QueueSalvage()
        if let bytes = try? FileReader.readAll(database) { salvage.scanDatabase(bytes) }
        if let walBytes = try? FileReader.readAll(database + "-wal"), let wal = SQLiteWAL(walBytes) {
            salvage.scanFrames(walBytes, wal.frames.filter(\.currentGeneration), pageSize: wal.pageSize)
        }
        return salvage
    }

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

    /// The drop count kept by earlier runs.
    public func droppedTotal() throws(QueueStoreError) -> Int {
        let statement = try prepare("SELECT value FROM meta WHERE key = 'dropped_total'")
        defer { sqlite3_finalize(statement) }
        let rc = sqlite3_step(statement)
        if rc == SQLITE_DONE { return 0 }
        guard rc == SQLITE_ROW else { throw failure("read", rc) }
        let value = Int(sqlite3_column_int64(statement, 0))
        storedDropped = value
        return value
    }

    /// One transaction: the deletions, then the inserts of `work`, and the drop counter when it
    /// changed. Deletions go first so that a number freed and reused in the same work (a store
    /// adopted late in a run) ends up holding the new message.
    public func commit(_ work: StoreWork, droppedTotal: Int? = nil) throws(QueueStoreError) {
        let dropped = droppedTotal == storedDropped ? nil : droppedTotal
        guard !work.isEmpty || dropped != nil else { return }
        try execute("BEGIN IMMEDIATE")
        do throws(QueueStoreError) {
            if !work.delete.isEmpty {
                // Acknowledged in runs (a drain deletes thousands in order): one range a run, not
                // one seek a row.
                let delete = try prepare("DELETE FROM messages WHERE seq BETWEEN ? AND ?")
                defer { sqlite3_finalize(delete) }
                for run in Self.runs(work.delete) {
                    sqlite3_reset(delete)
                    sqlite3_bind_int64(delete, 1, run.lowerBound)
                    sqlite3_bind_int64(delete, 2, run.upperBound)
                    let rc = sqlite3_step(delete)
                    guard rc == SQLITE_DONE else { throw failure("delete", rc) }
                }
            }
            if !work.insert.isEmpty {
                let insert = try prepare("INSERT OR REPLACE INTO messages(seq, topic, payload, created_ms) VALUES(?, ?, ?, ?)")
                defer { sqlite3_finalize(insert) }
                let now = WallClock.now().millisecondsSinceEpoch
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
            if let dropped {
                try execute("INSERT OR REPLACE INTO meta(key, value) VALUES('dropped_total', \(dropped))")
            }
            try execute("COMMIT")
            if let dropped { storedDropped = dropped }
        } catch {
            _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    /// `sequences` as the fewest closed ranges that hold exactly them.
    static func runs(_ sequences: [Int64]) -> [ClosedRange<Int64>] {
        var runs: [ClosedRange<Int64>] = []
        for sequence in sequences.sorted() {
            if let last = runs.last, last.upperBound == .max || sequence <= last.upperBound + 1 {
                if sequence > last.upperBound { runs[runs.count - 1] = last.lowerBound...sequence }
            } else {
                runs.append(sequence...sequence)
            }
        }
        return runs
    }

    /// Queue statistics as stored: depth, bytes, the oldest message's wall-clock time, drops.
    public func statistics() throws(QueueStoreError) -> (depth: Int, bytes: Int, oldestMilliseconds: Int64?, dropped: Int) {
        if readOnly, try !hasOurTables() { return (0, 0, nil, 0) }
        let statement = try prepare("SELECT COUNT(*), COALESCE(SUM(LENGTH(payload) + LENGTH(topic)), 0), MIN(created_ms), (SELECT value FROM meta WHERE key = 'dropped_total') FROM messages")
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { throw failure("read statistics", sqlite3_errcode(db)) }
        let oldest = sqlite3_column_type(statement, 2) == SQLITE_NULL ? nil : Optional(sqlite3_column_int64(statement, 2))
        return (Int(sqlite3_column_int64(statement, 0)), Int(sqlite3_column_int64(statement, 1)), oldest,
                Int(sqlite3_column_int64(statement, 3)))
    }

    // MARK: -

    private func openAndCheck() throws(QueueStoreError) {
        try openChecked(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        // Set only after the checks: a file that is not ours is moved aside unchanged.
        // page_size takes effect only on a database that has no pages yet.
        try execute("PRAGMA page_size=\(Self.pageSize)")
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA wal_autocheckpoint=\(Self.walCheckpointPages)")
        try execute("PRAGMA journal_size_limit=\(Self.walSizeLimit)")
        try execute("CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, created_ms INTEGER NOT NULL)")
        try execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        if !marked { try execute("PRAGMA application_id=\(Self.applicationID)") }
    }

    private func openReadOnly() throws(QueueStoreError) {
        let uri = "file:" + path.replacing("%", with: "%25").replacing("?", with: "%3f").replacing("#", with: "%23") + "?mode=ro"
        try openChecked(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI)
    }

    /// Opens `name` and checks it is sound and ours before anything is written.
    private func openChecked(_ name: String, _ flags: Int32) throws(QueueStoreError) {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(name, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        db = handle
        guard rc == SQLITE_OK else { throw failure("open", rc) }
        sqlite3_busy_timeout(db, 2000)
        try quickCheck()
        marked = try checkSchema()
    }

    private func quickCheck() throws(QueueStoreError) {
        let check = try prepare("PRAGMA quick_check")
        defer { sqlite3_finalize(check) }
        let step = sqlite3_step(check)
        guard step == SQLITE_ROW else { throw failure("check", step) }
        let verdict = sqlite3_column_text(check, 0).map { String(cString: $0) } ?? ""
        guard verdict == "ok" else { throw QueueStoreError.failed(path: path, operation: "check", detail: "corrupt: \(verdict)") }
    }

    /// Ours: no tables yet, or exactly `messages` and `meta` with our columns (files of earlier
    /// versions have no application id). Anything else belongs to another program.
    /// Returns whether the file already carries our application id.
    private func checkSchema() throws(QueueStoreError) -> Bool {
        let expected = ["messages": ["seq", "topic", "payload", "created_ms"], "meta": ["key", "value"]]
        let tables = try column("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        let application = try pragmaInteger("application_id")
        let marked = application == Int64(Self.applicationID)
        if tables.isEmpty && (application == 0 || marked) { return marked }
        var problems: [String] = []
        if application != 0 && application != Int64(Self.applicationID) { problems.append("application id \(application)") }
        for table in tables.sorted() {
            guard let columns = expected[table] else { problems.append("table \(table)"); continue }
            let found = try column("SELECT name FROM pragma_table_info('\(table)') ORDER BY cid")
            if found != columns { problems.append("\(table)(\(found.joined(separator: ", ")))") }
        }
        guard problems.isEmpty else {
            throw QueueStoreError.failed(path: path, operation: "check", detail: "foreign: not trackerd's queue (\(problems.joined(separator: ", ")))")
        }
        return marked
    }

    private func hasOurTables() throws(QueueStoreError) -> Bool {
        try column("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('messages', 'meta')").count == 2
    }

    private func column(_ sql: String) throws(QueueStoreError) -> [String] {
        let statement = try prepare(sql)
        defer { sqlite3_finalize(statement) }
        var out: [String] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return out }
            guard rc == SQLITE_ROW else { throw failure("read schema", rc) }
            out.append(sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? "")
        }
    }

    private func pragmaInteger(_ name: String) throws(QueueStoreError) -> Int64 {
        let statement = try prepare("PRAGMA \(name)")
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { throw failure("read \(name)", sqlite3_errcode(db)) }
        return sqlite3_column_int64(statement, 0)
    }

    private static func fileSize(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
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
}

extension QueueStoreError {
    var detailText: String {
        switch self {
        case .failed(_, _, let detail): detail
        case .corrupt(_, _, let detail), .foreign(_, _, let detail): detail
        case .diskFull: "disk full"
        case .emptied: "empty file"
        case .damagedLog: "damaged write-ahead log"
        case .salvaged: "salvaged"
        }
    }

    var isForeign: Bool {
        if case .failed(_, _, let detail) = self { return detail.hasPrefix("foreign") }
        return false
    }
}
