import Foundation
import Logging
import Synchronization
import TrackerCore
import TrackerMQTT
import TrackerProvisioning
import TrackerStorage

/// `fleetsim boots`: N devices booting for the first time at once against a real localcloud
/// (its executable, beside this one) on loopback, each with trackerd's own `FleetProvisioner`
/// (CreateCertificateFromCsr, RegisterThing, full-jitter retries on throttling and timeouts)
/// and then its own certificate to publish a fix. Devices per second, failures and retries,
/// when the last one published, and registrations per second by hundreds in the order they
/// completed: flat when a registration costs the cloud the same for the 1,000th as the 1st.
struct FirstBoots {
    var devices = 1000
    /// After the storm, the same number again in waves of `devices / waves`, each starting when
    /// the one before has finished: the registrations per second of each wave, flat when the
    /// 1,000th registration costs the cloud what the 1st did.
    var waves = 10
    /// localcloud answers every Nth provisioning request with AWS's 429 Throttling (0: never).
    var throttleEvery = 0
    var out = ".build/fleetsim"

    struct Result: Codable {
        var devices: Int
        var failures: Int
        var retries: Int
        var provisionedSeconds: Double
        var lastPublishingSeconds: Double
        var devicesPerSecond: Double
        /// Registrations per second within each successive hundred of completions.
        var ratePerHundred: [Double]
        var flatness: Double
        /// Attempts to connect that failed (the storm's refused or timed-out handshakes), retried.
        var connectFailures: Int
        /// Devices per second of each wave, in order, and the slowest over the fastest.
        var waveRates: [Double]
        var waveFlatness: Double
    }

    /// Counts provisioning's "trying again" warnings across all devices.
    struct RetryCounter: LogHandler {
        static let retries = Atomic<Int>(0)
        static let connectFailures = Atomic<Int>(0)
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let text = "\(event.message)"
            if text.contains("trying again") { Self.retries.wrappingAdd(1, ordering: .relaxed) }
            if text.hasPrefix("cannot connect"), Self.connectFailures.wrappingAdd(1, ordering: .relaxed).newValue == 1 {
                FileHandle.standardError.write(Data("fleetsim: e.g. \(text)\n".utf8))
            }
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { _ in RetryCounter() }
        let logger = Logger(label: "fleetsim")
        let directory: String = FileManager.default.temporaryDirectory.appendingPathComponent("fleetsim-boots-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cloud = directory + "/cloud"
        let port = Int.random(in: 20_000..<30_000)
        try Self.runToEnd(Self.localcloudPath, ["init", cloud, "--port", String(port)])
        let serve = try Self.serve(cloud: cloud, port: port, extra: throttleEvery > 0 ? ["--throttle-every", String(throttleEvery)] : [])
        defer { serve.terminate(); serve.waitUntilExit() }
        try FileManager.default.createDirectory(atPath: directory + "/devices", withIntermediateDirectories: true)
        let config = try TrackerConfig.parse(String(contentsOfFile: cloud + "/trackerd.toml", encoding: .utf8), file: "trackerd.toml")
        guard let provisioning = config.provisioning else { throw Failure(description: "localcloud's trackerd.toml has no [provisioning]") }

        print("first boots: \(devices) devices provisioning at once through localcloud on 127.0.0.1:\(port)"
              + (throttleEvery > 0 ? ", every \(throttleEvery)th request throttled (429)" : ""))
        let start = Date()
        let tally = Tally()
        let boot = Boot(directory: directory, port: port, caFile: config.mqtt.caFile, provisioning: provisioning,
                        backoff: Backoff(base: config.mqtt.reconnectMin, cap: config.mqtt.reconnectMax), logger: logger, start: start)
        // libmosquitto's loop uses select(2), which cannot watch a descriptor past 1,023: one
        // process holds at most some 100 devices' connections (each is a socket, libmosquitto's
        // socket pair and the connection's wake pipe), so the storm comes from several.
        let perWorker = 100
        let workers = try stride(from: 0, to: devices, by: perWorker).map { from in
            try Self.worker(cloud: cloud, directory: directory, port: port, range: from..<min(devices, from + perWorker), start: start)
        }
        for (process, output) in workers {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            Self.absorb(text, into: tally)
        }
        let done = tally.completions.withLock { $0.sorted() }
        let publishing = tally.published.withLock { $0.sorted() }
        // Hundred h: completions 100h ..< 100h + 100, from the end of the one before (the start for the first).
        let rates: [Double] = stride(from: 0, to: done.count / 100, by: 1).map { h in
            let span = done[h * 100 + 99] - (h == 0 ? 0 : done[h * 100 - 1])
            return span > 0 ? 100 / span : 0
        }
        // The waves: registrations 1,001 to 2,000, a hundred at a time.
        var waveRates: [Double] = []
        let size = max(1, devices / max(1, waves))
        for wave in 0..<waves {
            let waveTally = Tally()
            let begun = Date()
            await boot.devices((devices + wave * size)..<(devices + (wave + 1) * size), tally: waveTally)
            waveRates.append(Double(waveTally.completions.withLock { $0.count }) / Date().timeIntervalSince(begun))
            tally.failures.wrappingAdd(waveTally.failures.load(ordering: .relaxed), ordering: .relaxed)
        }
        let result = Result(devices: devices, failures: tally.failures.load(ordering: .relaxed), retries: RetryCounter.retries.load(ordering: .relaxed),
                            provisionedSeconds: done.last ?? -1, lastPublishingSeconds: publishing.last ?? -1,
                            devicesPerSecond: done.isEmpty ? 0 : Double(done.count) / (done.last ?? 1),
                            ratePerHundred: rates, flatness: (rates.min() ?? 0) / max(rates.max() ?? 1, 1e-9),
                            connectFailures: RetryCounter.connectFailures.load(ordering: .relaxed), waveRates: waveRates,
                            waveFlatness: (waveRates.min() ?? 0) / max(waveRates.max() ?? 1, 1e-9))
        try FleetSimCommand.write(result, to: out + "/boots.json")
        print("provisioned \(done.count) of \(devices) in \(JSONNumber.fixed(result.provisionedSeconds, 1)) s (\(JSONNumber.fixed(result.devicesPerSecond, 1)) devices/s); \(result.failures) failed, \(result.retries) retries; the last one publishing at \(JSONNumber.fixed(result.lastPublishingSeconds, 1)) s")
        print("at once: \(result.connectFailures) connection attempts failed and were retried (the connect storm); registrations/s by hundreds in the order they completed: " + rates.map { JSONNumber.fixed($0, 1) }.joined(separator: " "))
        print("then \(waves) waves of \(size) (registrations \(devices + 1) to \(devices + waves * size)): devices/s " + waveRates.map { JSONNumber.fixed($0, 1) }.joined(separator: " ") + " (slowest/fastest \(JSONNumber.fixed(result.waveFlatness, 2)))")
        print("boots: \(out)/boots.json")
    }

    /// What booting a device needs; `devices` boots a range of them at once.
    struct Boot: Sendable {
        let directory: String
        let port: Int
        let caFile: String
        let provisioning: ProvisioningConfig
        let backoff: Backoff
        let logger: Logger
        let start: Date

        func devices(_ range: Range<Int>, tally: Tally) async {
            await withTaskGroup(of: Void.self) { group in
                for index in range {
                    group.addTask { await device(index, tally: tally) }
                }
            }
        }

        func device(_ index: Int, tally: Tally) async {
            let serial = String(format: "fleet%06d", index)
            do {
                let store = try CredentialStore(directory: directory + "/devices/" + serial)
                let provisioner = FleetProvisioner(
                    settings: .init(host: "localhost", port: port, caFile: caFile, provisioning: provisioning, serial: serial,
                                    mac: "02:00:00:00:00:00"),
                    store: store, logger: logger, backoff: backoff)
                let result = try await provisioner.provision()
                tally.completions.withLock { $0.append(Date().timeIntervalSince(start)) }
                if try await FirstBoots.publishOnce(port: port, caFile: caFile, store: store, thing: result.thingName, logger: logger) {
                    tally.published.withLock { $0.append(Date().timeIntervalSince(start)) }
                } else {
                    tally.failures.wrappingAdd(1, ordering: .relaxed)
                }
            } catch {
                tally.failures.wrappingAdd(1, ordering: .relaxed)
                print("device \(serial): \(error)")
            }
        }
    }

    final class Tally: Sendable {
        let completions = Mutex<[Double]>([])
        let published = Mutex<[Double]>([])
        let failures = Atomic<Int>(0)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static var localcloudPath: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("localcloud").path
    }

    /// `localcloud serve` on `port`, once it says it is ready (its log goes on being read, so the
    /// pipe never fills).
    static func serve(cloud: String, port: Int, extra: [String] = []) throws -> Process {
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: localcloudPath)
        serve.arguments = ["serve", cloud, "--port", String(port), "--http-port", "0", "--files-port", String(port + 1)] + extra
        let errors = Pipe()
        serve.standardError = errors
        try serve.run()
        let ready = Atomic<Bool>(false)
        errors.fileHandleForReading.readabilityHandler = { handle in
            if String(decoding: handle.availableData, as: UTF8.self).contains("localcloud ready") { ready.store(true, ordering: .releasing) }
        }
        let deadline = Date().addingTimeInterval(30)
        while !ready.load(ordering: .acquiring) {
            guard Date() < deadline, serve.isRunning else {
                serve.terminate()
                throw Failure(description: "localcloud did not start")
            }
            usleep(20_000)
        }
        return serve
    }

    /// A child `fleetsim boots-worker` booting `range` now, on the same clock.
    static func worker(cloud: String, directory: String, port: Int, range: Range<Int>, start: Date) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = ["boots-worker", cloud, directory, String(port), String(range.lowerBound), String(range.upperBound),
                             String(start.timeIntervalSince1970)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        return (process, output)
    }

    /// A worker's lines: "C t" a device provisioned at t s, "P t" published, "F" failed,
    /// "R retries connect-failures" at the end.
    static func absorb(_ text: String, into tally: Tally) {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            switch parts.first {
            case "C": if let t = Double(parts[1]) { tally.completions.withLock { $0.append(t) } }
            case "P": if let t = Double(parts[1]) { tally.published.withLock { $0.append(t) } }
            case "F": tally.failures.wrappingAdd(1, ordering: .relaxed)
            case "R":
                RetryCounter.retries.wrappingAdd(Int(parts[1]) ?? 0, ordering: .relaxed)
                RetryCounter.connectFailures.wrappingAdd(Int(parts[2]) ?? 0, ordering: .relaxed)
            default: print(line)
            }
        }
    }

    /// `fleetsim boots-worker CLOUD DIR PORT FROM TO START`: boots devices FROM..<TO against a
    /// running localcloud and says how it went, a line each (see `absorb`).
    static func work(_ arguments: [String]) async throws {
        LoggingSystem.bootstrap { _ in RetryCounter() }
        guard arguments.count == 6, let port = Int(arguments[2]), let from = Int(arguments[3]), let to = Int(arguments[4]),
              let epoch = Double(arguments[5]) else { throw Failure(description: "boots-worker: bad arguments") }
        let config = try TrackerConfig.parse(String(contentsOfFile: arguments[0] + "/trackerd.toml", encoding: .utf8), file: "trackerd.toml")
        guard let provisioning = config.provisioning else { throw Failure(description: "no [provisioning]") }
        let tally = Tally()
        let boot = Boot(directory: arguments[1], port: port, caFile: config.mqtt.caFile, provisioning: provisioning,
                        backoff: Backoff(base: config.mqtt.reconnectMin, cap: config.mqtt.reconnectMax),
                        logger: Logger(label: "fleetsim"), start: Date(timeIntervalSince1970: epoch))
        await boot.devices(from..<to, tally: tally)
        var out = tally.completions.withLock { $0.map { "C \($0)\n" }.joined() } + tally.published.withLock { $0.map { "P \($0)\n" }.joined() }
        out += String(repeating: "F\n", count: tally.failures.load(ordering: .relaxed))
        out += "R \(RetryCounter.retries.load(ordering: .relaxed)) \(RetryCounter.connectFailures.load(ordering: .relaxed))\n"
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    static func runToEnd(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed") }
    }

    /// Connects with the device's own certificate and publishes one fix; true once the broker acknowledged it.
    static func publishOnce(port: Int, caFile: String, store: CredentialStore, thing: String, logger: Logger) async throws -> Bool {
        let connection = try MQTTConnection(settings: MQTTSettings(host: "localhost", port: port, caFile: caFile, certFile: store.activeCertificate,
                                                                   keyFile: store.activeKey, clientID: thing),
                                            logger: logger, backoff: Backoff(base: .seconds(1), cap: .seconds(120)))
        connection.wantAcknowledgements(true)
        connection.start()
        var acknowledged = false
        let deadline = Date().addingTimeInterval(120)
        events: for await event in connection.events {
            switch event {
            case .connected:
                let payload = #"{"gpsDeviceID":"\#(thing)","gpsLat":10.15,"gpsLng":10.15,"gpsDatTm":"03/02/2020  08:03:20.000"}"#
                _ = connection.publish(topic: "gpsTopic", payload: Array(payload.utf8))
            case .acknowledgementsReady:
                if !connection.takeAcknowledged().isEmpty { acknowledged = true; break events }
            default:
                if Date() > deadline { break events }
            }
        }
        await connection.shutdown()
        return acknowledged
    }
}
