import Foundation
import Testing
import TrackerFuzzing

/// Every input `make fuzz` kept (Fuzz/corpus) and every crash it ever found (Fuzz/crashes) goes
/// through its target again on each `make test`: a parser that regresses on one of them traps
/// here, in the ordinary build, without libFuzzer.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let dir = root.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func theCorpusReplays(target: FuzzTarget) throws {
        let corpus = Self.inputs("corpus", target)
        #expect(corpus.count >= 2, "Fuzz/corpus/\(target.rawValue) holds the seeds and what make fuzz kept")
        for file in corpus + Self.inputs("crashes", target) {
            target.run(Array(try Data(contentsOf: file)))
        }
        print("fuzz corpus \(target.rawValue): \(corpus.count) inputs, \(Self.inputs("crashes", target).count) past crashes replayed")
    }

    /// The targets must reach the code they are for, or fuzzing them proves nothing.
    @Test func theSeedsReachTheParsers() throws {
        let drive = try #require(Self.inputs("corpus", .nmea).first { $0.lastPathComponent == "seed-drive-2-cycles.nmea" })
        let provisioning = Self.inputs("corpus", .provisioning).map(\.lastPathComponent)
        #expect(provisioning.contains("create-accepted.bin") && provisioning.contains("register-rejected.bin"))
        #expect(try Data(contentsOf: drive).count > 100)
    }
}
