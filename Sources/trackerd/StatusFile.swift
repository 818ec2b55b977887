#if canImport(Glibc)
import Glibc
#endif
import TrackerStorage
import TrackerSystem

/// `status.json` in the runtime directory (tmpfs under systemd: no SD-card writes), rewritten
/// atomically every 2 s by `run` and read by `trackerd status`.
struct StatusFile: Sendable {
    let directory: String
    var path: String { directory + "/status.json" }

    /// `$RUNTIME_DIRECTORY` (systemd's RuntimeDirectory=trackerd), else /run/trackerd.
    static var runtimeDirectory: String {
        getenv("RUNTIME_DIRECTORY").map { String(cString: $0) }.flatMap { $0.split(separator: ":").first.map(String.init) }
            ?? "/run/trackerd"
    }

    func write(_ json: String) {
        _ = try? CredentialStore.write(Array((json + "\n").utf8), to: path, mode: 0o644)
    }

    func read() throws(FileReader.ReadError) -> String {
        String(decoding: try FileReader.readAll(path), as: UTF8.self)
    }

    func remove() { unlink(path) }
}
