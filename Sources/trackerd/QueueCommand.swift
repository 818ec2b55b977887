#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import TrackerCore
import TrackerStorage
import TrackerSystem

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect the outbound queue.",
        subcommands: [Stats.self]
    )

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Depth, bytes, age of the oldest message and drop count of the stored queue.",
            discussion: "Reads [store] dir/queue.db without changing it. A running trackerd keeps its newest, not yet acknowledged messages in memory for up to [queue] spill_after_s before they reach this file."
        )

        @Option(name: .long, help: "The configuration file (default: \(TrackerConfig.defaultPath)).")
        var config: String?

        @Flag(name: .long, help: "One JSON object, for scripts.")
        var json = false

        func run() throws {
            let settings = try ConfigFile.loadOrExit(config)
            let path = settings.store.directory + "/queue.db"
            guard access(path, F_OK) == 0 else {
                print(json ? #"{"path":\#(FixPayload.jsonString(path)),"depth":0,"bytes":0,"dropped":0}"# : "\(path): no queue yet (nothing queued)")
                return
            }
            let statistics: (depth: Int, bytes: Int, oldestMilliseconds: Int64?, dropped: Int)
            do {
                // Read-only: a damaged file is reported, never moved or repaired from here.
                let store = try SQLiteQueueStore(path: path, readOnly: true)
                statistics = try store.statistics()
            } catch {
                StandardError.line("\(error)")
                throw ExitStatus.invalid
            }
            let nowMilliseconds = WallClock.now().millisecondsSinceEpoch
            let age = statistics.oldestMilliseconds.map { Double(max(0, nowMilliseconds - $0)) / 1000 }
            if json {
                var out = "{\"path\":\(FixPayload.jsonString(path)),\"depth\":\(statistics.depth),\"bytes\":\(statistics.bytes)"
                if let age { out += ",\"oldestAgeSeconds\":\(JSONNumber.fixed(age, 1))" }
                print(out + ",\"dropped\":\(statistics.dropped)}")
            } else {
                let oldest = age.map { ", oldest \(JSONNumber.fixed($0, 1)) s old" } ?? ""
                print("\(path): \(statistics.depth) messages, \(statistics.bytes) bytes\(oldest), \(statistics.dropped) dropped")
            }
        }
    }
}
