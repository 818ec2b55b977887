#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import TrackerSystem

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "What the running trackerd is doing: provisioning, connection, queue, last fix, zones.",
        discussion: """
        Reads status.json from $RUNTIME_DIRECTORY (or /run/trackerd), which `trackerd run` rewrites \
        every 2 s; under systemd only root and the group trackerd may read it. Exit 3 when trackerd is \
        not running, 4 when the status cannot be read (permission).
        """
    )

    @Flag(name: .long, help: "The status as JSON, for scripts.")
    var json = false

    struct Status: Decodable {
        struct MQTT: Decodable {
            struct Queue: Decodable { let depth: Int; let bytes: Int; let oldestAgeSeconds: Double?; let dropped: Int }
            struct Store: Decodable { let durable: Bool; let memoryOnlySince: String?; let reason: String? }
            let endpoint: String
            let clientId: String
            let connected: Bool
            let queue: Queue
            let store: Store?
        }
        struct LastFix: Decodable {
            struct FixValues: Decodable { let time: String?; let mode: Int; let lat: Double?; let lon: Double?; let sats: Int? }
            let ageSeconds: Double
            let fix: FixValues
        }
        let pid: Int32
        let deviceId: String
        let thing: String?
        let source: String
        let mqtt: MQTT?
        let lastFix: LastFix?
        let zones: [String: String?]
    }

    func run() throws {
        let file = StatusFile(directory: StatusFile.runtimeDirectory)
        let text: String
        do {
            text = try file.read()
        } catch {
            // Not knowing is not "not running": an operator without the rights must be told so.
            if error.errno == EACCES {
                StandardError.line("\(error): run it as root (sudo trackerd status) or as a member of group trackerd")
                throw ExitCode(4)
            }
            text = ""
        }
        // kill(pid, 0) answers EPERM for a live process of another user (the daemon's).
        guard let status = try? JSONDecoder().decode(Status.self, from: Data(text.utf8)),
              kill(status.pid, 0) == 0 || errno == EPERM else {
            StandardError.line("trackerd is not running (no current status in \(file.path))")
            throw ExitCode(3)
        }
        if json {
            print(text, terminator: "")
            return
        }
        print("trackerd (pid \(status.pid)), device \(status.deviceId)")
        print("provisioning: " + (status.thing.map { "provisioned as \($0)" } ?? "not provisioned (static credentials or none)"))
        if let mqtt = status.mqtt {
            print("connection: " + (mqtt.connected ? "connected to \(mqtt.endpoint) as \(mqtt.clientId)" : "not connected to \(mqtt.endpoint)"))
            let oldest = mqtt.queue.oldestAgeSeconds.map { ", oldest \(Int($0)) s old" } ?? ""
            print("queue: \(mqtt.queue.depth) messages, \(mqtt.queue.bytes) bytes\(oldest), \(mqtt.queue.dropped) dropped")
            if let store = mqtt.store, !store.durable {
                print("storage: MEMORY ONLY since \(store.memoryOnlySince ?? "?") (\(store.reason ?? "unknown")): a crash now loses the queue")
            }
        } else {
            print("connection: none ([mqtt] has no endpoint)")
        }
        print("source: \(status.source)")
        if let last = status.lastFix {
            let mode = last.fix.mode == 3 ? "3D" : last.fix.mode == 2 ? "2D" : "no fix"
            let position = last.fix.lat.flatMap { lat in last.fix.lon.map { "\(lat),\($0)" } } ?? "-"
            print("last fix: \(Int(last.ageSeconds.rounded())) s ago, \(mode), \(position)\(last.fix.sats.map { ", \($0) sats" } ?? "")\(last.fix.time.map { " at \($0)" } ?? "")")
        } else {
            print("last fix: none yet")
        }
        for name in status.zones.keys.sorted() {
            print("zone \(name): \((status.zones[name] ?? nil) ?? "not yet known")")
        }
    }
}
