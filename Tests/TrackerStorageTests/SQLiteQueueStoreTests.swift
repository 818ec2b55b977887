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
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0) ?? 0
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
        let mount = dir.file("small").path
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = Process()
        mounted.executableURL = URL(fileURLWithPath: "/bin/mount")
        mounted.arguments = ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mount]
        try mounted.run()
        mounted.waitUntilExit()
        try #require(mounted.terminationStatus == 0, "cannot mount a tmpfs")
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = [mount]
            try? unmount.run()
            unmount.waitUntilExit()
        }
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
