import Foundation
import Testing
import TestSupport
import TrackerCore
@testable import TrackerStorage
import CSQLite

@Suite struct SQLiteQueueStoreTests {
    func messages(_ range: ClosedRange<Int64>, size: Int = 80) -> [OutboundMessage] {
        range.map { OutboundMessage(sequence: $0, topic: "gpsTopic", payload: Array(repeating: UInt8(65 + $0 % 26), count: size)) }
    }

    @Test func commitsLoadsAndDeletesInOrder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        do {
            let store = try SQLiteQueueStore(path: path)
            try store.commit(StoreWork(insert: messages(1...5)))
            try store.commit(StoreWork(insert: messages(6...7), delete: [1, 3]), droppedTotal: 12)
        }
        let reopened = try SQLiteQueueStore(path: path)
        #expect(try reopened.loadAll() == messages(1...7).filter { $0.sequence != 1 && $0.sequence != 3 })
        let stats = try reopened.statistics()
        #expect(stats.depth == 5 && stats.bytes == 5 * (80 + 8) && stats.dropped == 12 && stats.oldestMilliseconds != nil)
        let header = try Data(contentsOf: dir.file("queue.db")).prefix(20)
        #expect(header.prefix(16) == Data("SQLite format 3\0".utf8))
        #expect(header[18] == 2 && header[19] == 2, "WAL mode (file format versions 2)")
    }

    /// Deletions go as ranges of consecutive sequences: exactly the rows named go, whatever
    /// their order, repeats and gaps.
    @Test func deletionsInRunsRemoveExactlyTheSequencesNamed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteQueueStore(path: dir.file("queue.db").path)
        try store.commit(StoreWork(insert: messages(1...300)))
        var random = SplitMix64(seed: 5)
        var kept = Set<Int64>(1...300)
        for _ in 0..<6 {
            let deleted = (0..<40).map { _ in Int64(random.next() % 300) + 1 }
                + (0..<20).map { Int64($0) + Int64(random.next() % 280) + 1 }
            try store.commit(StoreWork(delete: deleted))
            kept.subtract(deleted)
            #expect(try store.loadAll().map(\.sequence) == kept.sorted())
        }
        #expect(SQLiteQueueStore.runs([9, 3, 4, 5, 5, 7, 1, 2, .max, .max - 1]) == [1...5, 7...7, 9...9, (.max - 1)...(.max)])
        #expect(SQLiteQueueStore.runs([]) == [])
    }

    @Test func aCorruptFileIsMovedAsideAndANewOneStarted() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: path))
        let store = try SQLiteQueueStore(path: path)
        guard case .corrupt(_, let movedTo, _)? = store.recovered else {
            Issue.record("corruption not reported: \(String(describing: store.recovered))")
            return
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: movedTo)) == garbage, "the unreadable file is kept for inspection")
        #expect(try store.loadAll().isEmpty)
        try store.commit(StoreWork(insert: messages(1...2)))
        #expect(try store.loadAll().count == 2)
        #expect(store.recovered?.description.contains("moved aside to \(movedTo)") == true)
    }

    @Test func aDamagedPageIsDetected() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        do {
            let store = try SQLiteQueueStore(path: path)
            try store.commit(StoreWork(insert: messages(1...400, size: 200)))
        }
        // Overwrite the middle of the b-tree: the header stays valid, the pages do not.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 8192)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 16384))
        try handle.close()
        let store = try SQLiteQueueStore(path: path)
        if case .corrupt? = store.recovered {} else { Issue.record("damage not detected") }
    }

    @Test func anotherProgramsDatabaseIsMovedAsideNotUsed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        var handle: OpaquePointer?
        #expect(sqlite3_open(path, &handle) == SQLITE_OK)
        #expect(sqlite3_exec(handle, "CREATE TABLE messages(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO messages(body) VALUES('theirs')", nil, nil, nil) == SQLITE_OK)
        sqlite3_close(handle)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        let store = try SQLiteQueueStore(path: path)
        guard case .foreign(_, let movedTo, let detail)? = store.recovered else {
            Issue.record("foreign schema not reported: \(String(describing: store.recovered))")
            return
        }
        #expect(movedTo.hasPrefix(path + ".foreign-"))
        #expect(detail.contains("messages(id, body)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: movedTo)) == original, "kept, never deleted")
        try store.commit(StoreWork(insert: messages(1...2)))
        #expect(try store.loadAll().count == 2)
    }

    @Test func anEmptyFileIsReported() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = try SQLiteQueueStore(path: path)
        #expect(store.recovered == .emptied(path: path))
        #expect(store.recovered?.description.contains("was empty (0 bytes)") == true)
        #expect(try SQLiteQueueStore(path: path).recovered == nil, "a file we wrote is not reported again")
    }

    @Test func theDropCountIsKeptAndWrittenOnlyWhenItChanges() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        do {
            let store = try SQLiteQueueStore(path: path)
            #expect(try store.droppedTotal() == 0)
            try store.commit(StoreWork(insert: messages(1...1)), droppedTotal: 7)
        }
        let store = try SQLiteQueueStore(path: path)
        #expect(try store.droppedTotal() == 7)
        let before = Self.walBytes(path)
        try store.commit(StoreWork(), droppedTotal: 7)
        #expect(Self.walBytes(path) == before, "nothing changed, nothing written")
    }

    static func walBytes(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? nil) ?? 0
    }

    /// `trackerd queue stats` opens read-only: a damaged file is reported and left exactly where
    /// and as it is (the running daemon, or the next start, deals with it).
    @Test func readOnlyNeverMovesOrChangesAFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect(throws: QueueStoreError.self) { try SQLiteQueueStore(path: path, readOnly: true) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["queue.db"])

        let good = dir.file("good.db").path
        do { try SQLiteQueueStore(path: good).commit(StoreWork(insert: messages(1...3)), droppedTotal: 2) }
        let stats = try SQLiteQueueStore(path: good, readOnly: true).statistics()
        #expect(stats.depth == 3 && stats.dropped == 2)
    }

    /// every-message durability: one commit per message. The files stay near the messages' own
    /// size (small pages, a WAL checkpointed every 32 pages and cut back to 64 KiB).
    @Test func oneCommitPerMessageKeepsTheFilesSmall() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        let store = try SQLiteQueueStore(path: path)
        var largestWAL = 0
        for n in Int64(1)...3000 {
            try store.commit(StoreWork(insert: messages(n...n, size: 100)))
            largestWAL = max(largestWAL, Self.walBytes(path))
        }
        let database = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(largestWAL <= 40 * (1024 + 24) + 32, "WAL peak \(largestWAL) bytes")
        let perMessage = Double(database + largestWAL) / 3000
        #expect(perMessage < 250, "\(perMessage) bytes per 100-byte message")
        print("every-message store: 3000 messages, database \(database) bytes, WAL peak \(largestWAL) bytes, \(Int(1_048_576 / perMessage)) messages per MiB")
    }

    /// A real full disk: a 512 KiB tmpfs mounted for the test, filled by another file, then freed.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root (as in CI)"))
    func aFullDiskIsReportedAndRecoveredFrom() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let tmpfs = try SmallTmpfs(at: dir.file("small").path, size: "512k")
        defer { tmpfs.unmount() }
        let mount = tmpfs.path
        let store = try SQLiteQueueStore(path: mount + "/queue.db")
        try store.commit(StoreWork(insert: messages(1...10)))
        let filler = mount + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(repeating: 0, count: 400 * 1024)))
        var full: QueueStoreError?
        var next: Int64 = 11
        for _ in 0..<50 where full == nil {
            do {
                try store.commit(StoreWork(insert: messages(next...(next + 99), size: 200)))
                next += 100
            } catch {
                full = error
            }
        }
        #expect(full == .diskFull(path: mount + "/queue.db"))
        try FileManager.default.removeItem(atPath: filler)
        try store.commit(StoreWork(insert: messages(next...(next + 99), size: 200)))
        #expect(try store.loadAll().count == Int(next + 99))
    }
}

/// Damage that SQLite would absorb silently, or that forces the file aside: what can still be
/// read comes back, and the counts say what was recovered and what was lost.
@Suite struct QueueSalvageTests {
    static func messages(_ range: ClosedRange<Int64>, size: Int = 100) -> [OutboundMessage] {
        range.map { n -> OutboundMessage in
            let label: [UInt8] = Array("fix \(n) ".utf8)
            let filler = [UInt8](repeating: UInt8(65 + n % 26), count: size)
            return OutboundMessage(sequence: n, topic: "gpsTopic", payload: label + filler)
        }
    }

    /// A crash image: the files as they are on disk while trackerd runs, WAL not checkpointed.
    static func crashImage(_ dir: TemporaryDirectory, commits: [[OutboundMessage]]) throws -> String {
        let live = dir.file("live").path, image = dir.file("image").path
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
        let store = try SQLiteQueueStore(path: live + "/queue.db")
        for work in commits { try store.commit(StoreWork(insert: work)) }
        for name in ["queue.db", "queue.db-wal"] {
            try FileManager.default.copyItem(atPath: live + "/" + name, toPath: image + "/" + name)
        }
        store.close()
        return image + "/queue.db"
    }

    @Test func aDamagedWALIsCopiedAndItsCommittedFramesSalvaged() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // Ten small commits: few enough frames that no checkpoint folds them into the database.
        let commits = (Int64(0)..<10).map { (k: Int64) -> [OutboundMessage] in Self.messages((2 * k + 1)...(2 * k + 2)) }
        let path = try Self.crashImage(dir, commits: commits)
        let wal = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + "-wal")))
        let parsed = try #require(SQLiteWAL(wal))
        #expect(parsed.validFrames == parsed.frames.count && parsed.lostFrames.isEmpty, "a sound WAL loses nothing")
        // One flipped byte in the third frame's page: SQLite drops it and every frame after it.
        var damaged = wal
        damaged[parsed.frames[2].offset + 200] ^= 0xFF
        try Data(damaged).write(to: URL(fileURLWithPath: path + "-wal"))
        let broken = try #require(SQLiteWAL(damaged))
        #expect(broken.validFrames < 3 && !broken.lostFrames.isEmpty)

        let store = try SQLiteQueueStore(path: path)
        guard case .damagedLog(_, let copy, let lost, _)? = store.recovered else {
            Issue.record("the damaged WAL was not reported: \(String(describing: store.recovered))")
            return
        }
        #expect(lost > 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(damaged), "the log is kept as it was")
        guard case .salvaged(_, _, let recovered, let unreadable)? = store.salvaged else {
            Issue.record("nothing salvaged")
            return
        }
        // The flipped byte sits in one page image; a later image of the same page holds the row again.
        #expect(recovered > 0 && unreadable <= 1)
        #expect(try store.loadAll() == Self.messages(1...20), "every committed message is back, in order")
    }

    @Test func aCorruptDatabaseIsSalvagedFromItsLeafPages() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("queue.db").path
        do {
            let store = try SQLiteQueueStore(path: path)
            try store.commit(StoreWork(insert: Self.messages(1...2000)))
        }
        // The file header and the first pages (schema, b-tree root) overwritten: SQLite cannot
        // open it, but the leaf pages further in still hold their rows.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 3 * 1024))
        try handle.seek(toOffset: 40 * 1024 + 300)
        try handle.write(contentsOf: Data(repeating: 0x00, count: 200))
        try handle.close()

        let store = try SQLiteQueueStore(path: path)
        guard case .corrupt(_, let movedTo, _)? = store.recovered, case .salvaged(_, let source, let recovered, _)? = store.salvaged else {
            Issue.record("\(String(describing: store.recovered)) \(String(describing: store.salvaged))")
            return
        }
        #expect(source == movedTo)
        let back = try store.loadAll()
        #expect(back.count == recovered)
        #expect(recovered > 1900 && recovered < 2000, "most rows, not the damaged page's: \(recovered)")
        let original = Dictionary(uniqueKeysWithValues: Self.messages(1...2000).map { ($0.sequence, $0) })
        #expect(back.allSatisfy { original[$0.sequence] == $0 }, "what comes back is exactly what was stored")
        print("corrupt database: \(recovered) of 2000 messages salvaged; \(store.salvaged!)")
    }
}
