import FleetSimulation
import Foundation
import Logging
import Synchronization
import TrackerCore
import TrackerMQTT

/// `fleetsim real`: N real MQTT/TLS clients — trackerd's own `MQTTConnection`, whose reconnects
/// are the core's `ReconnectPolicy` with full jitter — connected to a real localcloud on
/// loopback; localcloud is stopped for the outage and started again; each client, back,
/// publishes its newest fix and a backlog batch. The measured reconnect spread and drain are set
/// beside what `FleetModel` predicts for the same fleet, outage and backoff.
/// Clients run in worker processes of 100: libmosquitto's select(2) loop cannot watch a
/// descriptor past 1,023.
struct RealFleet {
    var clients = 1000
    var outageSeconds = 20.0
    var reconnectMinSeconds = 1.0
    var reconnectMaxSeconds = 30.0
    var out = ".build/fleetsim"

    struct Result: Codable {
        var clients: Int
        /// From the broker stopping to accepting connections again (its restart included).
        var measuredOutageSeconds: Double
        var allConnectedSeconds: Double
        var modelAllConnectedSeconds: Double
        var attempts: Int
        var modelAttempts: Int
        var drained: Int
        var allDrainedSeconds: Double
        var modelAllDrainedSeconds: Double
        /// Connect attempts per second from the broker stopping.
        var attemptsPerSecond: [Int]
        var modelAttemptsPerSecond: [Int]
        var connectedTimeRatio: Double
        var attemptRatio: Double
        /// When half the fleet was back, measured and modelled: the spread's middle.
        var halfConnectedSeconds: Double
        var modelHalfConnectedSeconds: Double
    }

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleetsim-real-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cloud = directory + "/cloud"
        let port = Int.random(in: 20_000..<30_000)
        try FirstBoots.runToEnd(FirstBoots.localcloudPath, ["init", cloud, "--port", String(port)])
        var serve = try FirstBoots.serve(cloud: cloud, port: port)
        print("real fleet: \(clients) MQTT/TLS clients on localcloud at 127.0.0.1:\(port); reconnect \(reconnectMinSeconds)-\(reconnectMaxSeconds) s")
        var workers: [(Process, Pipe)] = []
        for from in stride(from: 0, to: clients, by: 100) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            process.arguments = ["real-worker", cloud, String(port), String(from), String(min(clients, from + 100)),
                                 String(reconnectMinSeconds), String(reconnectMaxSeconds)]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            workers.append((process, output))
        }
        // Every client connected: each worker says "ready" first.
        var readers: [FileHandle] = []
        for (_, pipe) in workers {
            let handle = pipe.fileHandleForReading
            var line = ""
            while !line.hasSuffix("\n") {
                let byte = handle.readData(ofLength: 1)
                guard !byte.isEmpty else { throw FirstBoots.Failure(description: "a worker ended before its clients connected") }
                line += String(decoding: byte, as: UTF8.self)
            }
            readers.append(handle)
        }
        // Sessions a minute old, as trackerd's stableAfter wants before a loss resets the backoff.
        try await Task.sleep(for: .seconds(61))
        let t0 = Date()
        serve.terminate()
        serve.waitUntilExit()
        try await Task.sleep(for: .seconds(outageSeconds))
        serve = try FirstBoots.serve(cloud: cloud, port: port)
        defer { serve.terminate(); serve.waitUntilExit() }
        let back = Date().timeIntervalSince(t0)
        var attempts: [Double] = [], connected: [Double] = [], drained: [Double] = []
        for ((process, _), handle) in zip(workers, readers) {
            let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let epoch = Double(parts[1]) else { continue }
                let t = epoch - t0.timeIntervalSince1970
                guard t >= 0 else { continue }
                switch parts[0] {
                case "A": attempts.append(t)
                case "C": connected.append(t)
                case "D": drained.append(t)
                default: break
                }
            }
        }
        var scenario = FleetScenario()
        scenario.trackers = clients
        scenario.outageSeconds = back
        scenario.connectLimit = 1_000_000
        scenario.reconnectMinSeconds = reconnectMinSeconds
        scenario.reconnectMaxSeconds = reconnectMaxSeconds
        scenario.connectRoundTripSeconds = 0.01
        // Each client sends its newest fix and one batch: a parked fleet reporting every fix
        // has about a minute of them queued, the newest and one batch of 50 too.
        scenario.reportEveryFix = true
        scenario.drivingShare = 0
        let model = FleetModel.run(scenario)
        let allConnected = connected.count == clients ? connected.max() ?? -1 : -1
        var perSecond = [Int](repeating: 0, count: Int(attempts.max() ?? 0) + 1)
        for t in attempts { perSecond[Int(t)] += 1 }
        let half = connected.sorted().dropFirst(clients / 2 - 1).first ?? -1
        var cumulative = 0
        let modelHalf = Double(model.connects.firstIndex { cumulative += $0; return cumulative >= clients / 2 } ?? -1)
        let result = Result(clients: clients, measuredOutageSeconds: back, allConnectedSeconds: allConnected,
                            modelAllConnectedSeconds: model.allConnectedSeconds, attempts: attempts.count, modelAttempts: model.totalAttempts,
                            drained: drained.count, allDrainedSeconds: drained.count == clients ? drained.max() ?? -1 : -1,
                            modelAllDrainedSeconds: model.allDrainedSeconds,
                            attemptsPerSecond: perSecond, modelAttemptsPerSecond: model.attempts,
                            connectedTimeRatio: allConnected / model.allConnectedSeconds,
                            attemptRatio: Double(attempts.count) / Double(max(1, model.totalAttempts)),
                            halfConnectedSeconds: half, modelHalfConnectedSeconds: modelHalf)
        try FleetSimCommand.write(result, to: out + "/real.json")
        print("broker away \(JSONNumber.fixed(back, 1)) s (stopped, \(JSONNumber.fixed(outageSeconds, 0)) s, started): \(connected.count) of \(clients) back, the last at \(JSONNumber.fixed(allConnected, 1)) s (model \(JSONNumber.fixed(model.allConnectedSeconds, 1)) s, ratio \(JSONNumber.fixed(result.connectedTimeRatio, 2))); \(attempts.count) connect attempts (model \(model.totalAttempts), ratio \(JSONNumber.fixed(result.attemptRatio, 2))); \(drained.count) drained, the last at \(JSONNumber.fixed(result.allDrainedSeconds, 1)) s (model \(JSONNumber.fixed(model.allDrainedSeconds, 1)) s)")
        print("half the fleet back at \(JSONNumber.fixed(half, 1)) s (model: within second \(Int(modelHalf)))")
        print("real: \(out)/real.json")
    }

    /// `fleetsim real-worker CLOUD PORT FROM TO MIN MAX`: clients FROM..<TO; "ready" once all are
    /// connected, then a line per event with its epoch time: "A" an attempt (failed or not), "C"
    /// connected again, "D" its newest fix and backlog batch acknowledged. Ends when every client
    /// is back and drained, or after 10 minutes.
    static func work(_ arguments: [String]) async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        guard arguments.count == 6, let port = Int(arguments[1]), let from = Int(arguments[2]), let to = Int(arguments[3]),
              let minimum = Double(arguments[4]), let maximum = Double(arguments[5]) else {
            throw FirstBoots.Failure(description: "real-worker: bad arguments")
        }
        let cloud = arguments[0]
        let logger = Logger(label: "fleetsim")
        let log = EventLines()
        let count = to - from
        await withTaskGroup(of: Void.self) { group in
            for index in from..<to {
                group.addTask {
                    guard let connection = try? MQTTConnection(
                        settings: MQTTSettings(host: "localhost", port: port, caFile: cloud + "/ca/ca.pem", certFile: cloud + "/service/localcloud.pem",
                                               keyFile: cloud + "/service/localcloud.key", clientID: String(format: "sim-%05d", index)),
                        logger: logger, backoff: Backoff(base: .milliseconds(Int64(minimum * 1000)), cap: .milliseconds(Int64(maximum * 1000)))) else { return }
                    connection.wantAcknowledgements(true)
                    connection.start()
                    var sessions = 0, pending = 0
                    let deadline = Date().addingTimeInterval(600)
                    func note(_ kind: String) { log.lines.withLock { $0.append("\(kind) \(Date().timeIntervalSince1970)") } }
                    for await event in connection.events {
                        switch event {
                        case .connected:
                            sessions += 1
                            if sessions == 1 {
                                if log.ready.wrappingAdd(1, ordering: .relaxed).newValue == count { FileHandle.standardOutput.write(Data("ready\n".utf8)) }
                            } else {
                                note("A")
                                note("C")
                                // The newest fix, then the backlog in one batch.
                                let fix = Array(#"{"gpsDeviceID":"sim","gpsLat":10.15,"gpsLng":10.15,"gpsDatTm":"03/02/2020  08:03:20.000"}"#.utf8)
                                for topic in ["gpsTopic", "trackers/sim/backlog"] {
                                    if case .success = connection.publish(topic: topic, payload: fix) { pending += 1 }
                                }
                            }
                        case .connectionFailed:
                            if sessions >= 1 { note("A") }
                        case .acknowledgementsReady:
                            pending -= connection.takeAcknowledged().count
                            if sessions >= 2 && pending <= 0 { note("D") }
                        default:
                            break
                        }
                        if (sessions >= 2 && pending <= 0) || Date() > deadline { break }
                    }
                    await connection.shutdown()
                }
            }
        }
        FileHandle.standardOutput.write(Data(log.lines.withLock { $0.joined(separator: "\n") + "\n" }.utf8))
    }

    /// A worker's event lines and its count of clients connected the first time.
    final class EventLines: Sendable {
        let lines = Mutex<[String]>([])
        let ready = Atomic<Int>(0)
    }
}
