#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TrackerCore
import TrackerStorage
import TrackerSystem

struct QueueStatsCommand: TrackerSubcommand {
    static let spec = CommandLineArguments.Spec(
        name: "queue stats",
        abstract: "Depth, bytes, age of the oldest message and drop count of the stored queue, and of the running daemon's.",
        discussion: """
        Reads [store] dir/queue.db without changing it. A running trackerd keeps its newest, not yet \
        acknowledged messages in memory for up to [queue] spill_after_s before they reach this file: \
        its whole queue, from its status.json, is shown as well.
        """,
        options: [
            .option("config", "file", "The configuration file (default: \(TrackerConfig.defaultPath))."),
            .flag("json", "One JSON object, for scripts."),
        ])

    /// `--json`: the stored queue's figures, and the running daemon's queue when there is one.
    struct Report: Codable {
        var path: String
        var depth: Int
        var bytes: Int
        var oldestAgeSeconds: Double?
        var dropped: Int
        /// The running trackerd's whole queue (memory and disk), from its status.
        var running: TrackerStatus.Queue?
    }

    let config: String?
    let json: Bool

    init(_ arguments: CommandLineArguments) {
        config = arguments.value("config")
        json = arguments.flag("json")
    }

    func run() throws {
        let settings = try ConfigFile.loadOrExit(config)
        let path = settings.store.directory + "/queue.db"
        var report = Report(path: path, depth: 0, bytes: 0, oldestAgeSeconds: nil, dropped: 0,
                            running: (try? StatusFile(directory: StatusFile.runtimeDirectory).current())??.mqtt?.queue)
        if access(path, F_OK) == 0 {
            do {
                // Read-only: a damaged file is reported, never moved or repaired from here.
                let statistics = try SQLiteQueueStore(path: path, readOnly: true).statistics()
                let nowMilliseconds = WallClock.now().millisecondsSinceEpoch
                report.depth = statistics.depth
                report.bytes = statistics.bytes
                report.dropped = statistics.dropped
                report.oldestAgeSeconds = statistics.oldestMilliseconds.map { (Double(max(0, nowMilliseconds - $0)) / 100).rounded() / 10 }
            } catch {
                StandardError.line("\(error)")
                throw ExitStatus.invalid
            }
        }
        if json {
            print(String(decoding: try JSONCodec.encode(report), as: UTF8.self))
            return
        }
        if access(path, F_OK) != 0 {
            print("\(path): no queue yet (nothing queued)")
        } else {
            let oldest = report.oldestAgeSeconds.map { ", oldest \(JSONNumber.fixed($0, 1)) s old" } ?? ""
            print("\(path): \(report.depth) messages, \(report.bytes) bytes\(oldest), \(report.dropped) dropped")
        }
        if let running = report.running {
            let oldest = running.oldestAgeSeconds.map { ", oldest \(JSONNumber.fixed($0, 1)) s old" } ?? ""
            print("running trackerd: \(running.depth) messages queued (memory and disk), \(running.bytes) bytes\(oldest)")
        }
    }
}
