#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TrackerCore
import TrackerStorage
import TrackerSystem

/// `status.json` in the runtime directory (tmpfs under systemd: no SD-card writes), rewritten
/// atomically by `run` when the status changes, and read by `trackerd status` and `trackerd
/// queue stats`, which bring its ages to now.
struct StatusFile: Sendable {
    let directory: String
    var path: String { directory + "/status.json" }

    /// `$RUNTIME_DIRECTORY` (systemd's RuntimeDirectory=trackerd), else /run/trackerd.
    static var runtimeDirectory: String {
        getenv("RUNTIME_DIRECTORY").map { String(cString: $0) }.flatMap { $0.split(separator: ":").first.map(String.init) }
            ?? "/run/trackerd"
    }

    func write(_ status: TrackerStatus) {
        guard let bytes = Self.encode(status) else { return }
        _ = try? CredentialStore.write(bytes, to: path, mode: 0o644)
    }

    /// The file's form: sorted keys, one line.
    static func encode(_ status: TrackerStatus) -> [UInt8]? {
        guard var bytes = try? JSONCodec.encode(status) else { return nil }
        bytes.append(0x0A)
        return bytes
    }

    /// The file as written, for `status --json`.
    func read() throws(FileReader.ReadError) -> [UInt8] {
        try FileReader.readAll(path)
    }

    /// The status of a trackerd that is running now, its ages brought to now; nil when the file
    /// is missing, unreadable as a status, or left behind by a process that is gone. Throws
    /// when it cannot be read (permission): not knowing is not "not running".
    func current() throws(FileReader.ReadError) -> TrackerStatus? {
        let bytes: [UInt8]
        do { bytes = try read() } catch {
            if error.errno == EACCES { throw error }
            return nil
        }
        // kill(pid, 0) answers EPERM for a live process of another user (the daemon's).
        guard let status = try? JSONCodec.decode(TrackerStatus.self, from: bytes),
              kill(status.pid, 0) == 0 || errno == EPERM else { return nil }
        return status.aged(to: WallClock.now().millisecondsSinceEpoch)
    }

    func remove() { unlink(path) }
}
