import Foundation
import Testing
@testable import LocalCloud
import TestSupport

/// The registry's snapshot and journal: a registration appends a line; a reader replays it;
/// compacting folds it into the snapshot; a torn last line is skipped.
@Suite struct ThingRegistryTests {
    static func thing(_ name: String, certificate: String = "c1") -> ThingRegistry.Thing {
        .init(thingName: name, certificateId: certificate, identity: "id-" + name, attributes: ["serialNumber": name],
              policyName: nil, registeredAt: "2026-11-30T12:00:00Z")
    }

    @Test func aRegistrationIsOneLineAndReadersReplayIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("registry.json").path
        let registry = try ThingRegistry(path: path)
        try registry.compact()
        let snapshot = try String(contentsOfFile: path, encoding: .utf8)
        for index in 0..<500 { try registry.register(Self.thing("t\(index)")) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == snapshot, "the snapshot is not rewritten per registration")
        let journal = try String(contentsOfFile: registry.journalPath, encoding: .utf8)
        #expect(journal.split(separator: "\n").count == 500)
        try registry.register(Self.thing("t7", certificate: "c2"))
        // A reader (a restarted localcloud, a test) sees the journal's last word for each thing.
        let reader = try ThingRegistry(path: path)
        #expect(reader.all.count == 500 && reader.thing(named: "t7")?.certificateId == "c2")
        #expect(reader.thing(named: "t7")?.retired?.map(\.certificateId) == ["c1"])
        // A crash mid-line leaves a torn line: skipped.
        let handle = try #require(FileHandle(forWritingAtPath: registry.journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"thingName":"torn","certif"#.utf8))
        try handle.close()
        #expect(try ThingRegistry(path: path).all.count == 500)
        // Compacting: everything in the snapshot, the journal empty.
        try reader.compact()
        #expect(try String(contentsOfFile: registry.journalPath, encoding: .utf8).isEmpty)
        #expect(try ThingRegistry(path: path).thing(named: "t7")?.certificateId == "c2")
    }
}
