#if canImport(Glibc)
import Glibc
#endif
import TrackerCore
import TrackerSystem

struct StatusCommand: TrackerSubcommand {
    static let spec = CommandLineArguments.Spec(
        name: "status",
        abstract: "What the running trackerd is doing: provisioning, connection, queue, last fix, zones.",
        discussion: """
        Reads status.json from $RUNTIME_DIRECTORY (or /run/trackerd), which `trackerd run` rewrites \
        when something changes (at most every 2 s), and brings its ages to now (the file's are as of \
        its writtenAt); under systemd only root and the group trackerd may read it. Exit 3 when \
        trackerd is not running, 4 when the status cannot be read (permission).
        """,
        options: [.flag("json", "The status as JSON, for scripts.")])

    let json: Bool

    init(_ arguments: CommandLineArguments) {
        json = arguments.flag("json")
    }

    func run() throws {
        let file = StatusFile(directory: StatusFile.runtimeDirectory)
        let current: TrackerStatus?
        do {
            current = try file.current()
        } catch {
            StandardError.line("\(error): run it as root (sudo trackerd status) or as a member of group trackerd")
            throw ExitCode(4)
        }
        guard let status = current else {
            StandardError.line("trackerd is not running (no current status in \(file.path))")
            throw ExitCode(3)
        }
        if json {
            print(String(decoding: StatusFile.encode(status) ?? [], as: UTF8.self), terminator: "")
            return
        }
        print("trackerd (pid \(status.pid)), device \(status.deviceId)")
        print("provisioning: " + (status.thing.map { "provisioned as \($0)" } ?? "not provisioned (static credentials or none)"))
        if let mqtt = status.mqtt {
            print("connection: " + (mqtt.connected ? "connected to \(mqtt.endpoint) as \(mqtt.clientId)" : "not connected to \(mqtt.endpoint)"))
            let oldest = mqtt.queue.oldestAgeSeconds.map { ", oldest \(Int($0)) s old" } ?? ""
            print("queue: \(mqtt.queue.depth) messages, \(mqtt.queue.bytes) bytes\(oldest), \(mqtt.queue.dropped) dropped")
            if mqtt.publishRate.heldBack > 0 {
                print("publish rate: the cap of \(mqtt.publishRate.cap)/s is holding \(mqtt.publishRate.heldBack) messages back (draining a backlog)")
            }
            if !mqtt.store.durable {
                print("storage: MEMORY ONLY since \(mqtt.store.memoryOnlySince ?? "?") (\(mqtt.store.reason ?? "unknown")): a crash now loses the queue")
            }
        } else {
            print("connection: none ([mqtt] has no endpoint)")
        }
        if let certificate = status.certificate {
            let when = certificate.daysLeft < 0 ? "EXPIRED on \(certificate.notAfter)"
                : "expires \(certificate.notAfter) (in \(JSONNumber.fixed(certificate.daysLeft, 1)) days)"
            let renewal = certificate.renewedDaysBefore.map { $0 > 0 ? "renewed \($0) days before" : "renewed when a job asks" }
                ?? "not renewed by trackerd"
            print("certificate: \(certificate.id.prefix(12))…, \(when), key in a \(certificate.key), \(renewal)")
        }
        print("source: \(status.source)")
        print("odometer: \(JSONNumber.fixed(status.odometerMetres / 1000, 3)) km (\(status.motion))")
        if let last = status.lastFix {
            let mode = FixMode(rawValue: last.fix.mode).map { "\($0)" } ?? "mode \(last.fix.mode)"
            let position = last.fix.lat.flatMap { lat in last.fix.lon.map { "\(lat),\($0)" } } ?? "-"
            print("last fix: \(Int(last.ageSeconds.rounded())) s ago, \(mode), \(position)\(last.fix.sats.map { ", \($0) sats" } ?? "")\(last.fix.time.map { " at \($0)" } ?? "")")
        } else {
            print("last fix: none yet")
        }
        for name in status.zones.keys.sorted() {
            print("zone \(name): \((status.zones[name] ?? nil)?.rawValue ?? "not yet known")")
        }
        if let shadow = status.shadow {
            print("shadow: \(shadow.topic), " + (shadow.appliedVersion.map { "version \($0) applied" } ?? "nothing applied (the file's settings)"))
            for error in shadow.errors { print("shadow error: \(error.path): \(error.problem) (not applied)") }
        }
        for setting in status.settings { print("setting \(setting.key) = \(setting.value) (\(setting.origin.rawValue))") }
        if let job = status.job {
            var text = "job \(job.jobId): \(job.operation ?? "refused"), \(job.step)"
            if let bytes = job.bytes {
                text += job.total.map { total in ", \(total > 0 ? bytes * 100 / total : 0) % (\(bytes) of \(total) bytes)" } ?? ", \(bytes) bytes"
            }
            print(text)
        }
    }
}
