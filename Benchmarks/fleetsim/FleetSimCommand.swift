/// fleetsim: what a fleet of trackers does when its broker comes back (Benchmarks/, not
/// shipped). `fleetsim model` runs `FleetModel` twice, with trackerd's full jitter and without,
/// and writes both runs and their ratio as JSON (and a plot, with matplotlib).
import FleetSimulation
import Foundation
import TrackerCore

@main
struct FleetSimCommand {
    static let usage = """
    usage: fleetsim boots [--devices N] [--waves N] [--throttle-every N] [--out DIR]
           fleetsim real [--clients N] [--outage-s S] [--reconnect-max-s S] [--out DIR]
           fleetsim model [--trackers N] [--outage-s S] [--connect-limit N] [--publish-limit N] [--reconnect-min-s S]
                          [--reconnect-max-s S] [--report-interval-s S] [--report-policy adaptive|every-fix]
                          [--driving-share F] [--backlog-batch N] [--seed N] [--out DIR]
    """

    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let rest = arguments.dropFirst()
        switch arguments.first {
        case "real-worker":
            try await RealFleet.work(Array(rest))
        case "boots-worker":
            try await FirstBoots.work(Array(rest))
        case "real":
            var real = RealFleet()
            for (name, value) in options(rest) {
                switch name {
                case "--clients": real.clients = max(1, Int(number(name, value)))
                case "--outage-s": real.outageSeconds = number(name, value)
                case "--reconnect-max-s": real.reconnectMaxSeconds = number(name, value)
                case "--out": real.out = value
                default: fail("unknown option \(name)")
                }
            }
            try await real.run()
        case "boots":
            var boots = FirstBoots()
            for (name, value) in options(rest) {
                switch name {
                case "--devices": boots.devices = max(1, Int(number(name, value)))
                case "--waves": boots.waves = Int(number(name, value))
                case "--throttle-every": boots.throttleEvery = Int(number(name, value))
                case "--out": boots.out = value
                default: fail("unknown option \(name)")
                }
            }
            try await boots.run()
        case "model":
            try model(options(rest))
        default:
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            exit(64)
        }
    }

    /// `--name value` pairs, in order.
    static func options(_ arguments: ArraySlice<String>) -> [(name: String, value: String)] {
        var arguments = arguments
        var pairs: [(name: String, value: String)] = []
        while let name = arguments.popFirst() {
            guard let value = arguments.popFirst() else { fail("\(name) needs a value") }
            pairs.append((name, value))
        }
        return pairs
    }

    static func number(_ name: String, _ value: String) -> Double {
        guard let number = Double(value), number >= 0 else { fail("\(name) \(value) is not a number") }
        return number
    }

    static func model(_ options: [(name: String, value: String)]) throws {
        var scenario = FleetScenario()
        var out = ".build/fleetsim"
        for (name, value) in options {
            let number = { Self.number(name, value) }
            switch name {
            case "--trackers": scenario.trackers = max(1, Int(number()))
            case "--outage-s": scenario.outageSeconds = number()
            case "--connect-limit": scenario.connectLimit = max(1, Int(number()))
            case "--publish-limit": scenario.publishLimit = max(1, Int(number()))
            case "--reconnect-min-s": scenario.reconnectMinSeconds = number()
            case "--reconnect-max-s": scenario.reconnectMaxSeconds = number()
            case "--report-interval-s": scenario.reportIntervalSeconds = max(0.1, number())
            case "--backlog-batch": scenario.backlogBatch = max(1, Int(number()))
            case "--driving-share": scenario.drivingShare = min(1, max(0, number()))
            case "--report-policy":
                guard value == "adaptive" || value == "every-fix" else { fail("--report-policy is adaptive or every-fix, not \(value)") }
                scenario.reportEveryFix = value == "every-fix"
            case "--seed": scenario.seed = UInt64(number())
            case "--out": out = value
            default: fail("unknown option \(name)")
            }
        }
        var withoutJitter = scenario
        withoutJitter.jitter = false
        // Two hours of virtual time: without jitter a large fleet would take days.
        let limit = max(7200, 4 * scenario.outageSeconds)
        let jittered = FleetModel.run(scenario, limitSeconds: limit)
        let synchronised = FleetModel.run(withoutJitter, limitSeconds: limit)
        let report = FleetComparison(jitter: jittered, noJitter: synchronised)
        try FleetSimCommand.write(report, to: out + "/model.json")
        for line in report.summary { print(line) }
        print("model: \(out)/model.json")
        // The plot, if Debian's matplotlib is there (make bench-fleet installs it).
        let plot = Process()
        plot.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fleetsim-plot.py")
        plot.arguments = [script.path, out + "/model.json", out + "/model.png"]
        do {
            try plot.run()
            plot.waitUntilExit()
            print(plot.terminationStatus == 0 ? "plot: \(out)/model.png" : "plot: matplotlib failed (exit \(plot.terminationStatus))")
        } catch {
            print("plot: not made (\(error))")
        }
    }

    /// A result as JSON (sorted keys), its directory made if need be.
    static func write(_ value: some Encodable, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(value).write(to: URL(fileURLWithPath: path))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("fleetsim: \(message)\n" + usage + "\n").utf8))
        exit(64)
    }
}
