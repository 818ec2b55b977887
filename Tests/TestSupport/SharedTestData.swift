/// Support for trackerd's tests: where the shared captures are, temp dirs, free ports,
/// child processes with deadlines. Only test targets depend on it.
import Foundation

public enum SharedTestData {
    /// `../shared/testdata` beside the repository (as laid out for developers and CI),
    /// or `$TRACKERD_SHARED_DIR/testdata`.
    public static var root: URL {
        if let dir = ProcessInfo.processInfo.environment["TRACKERD_SHARED_DIR"] {
            return URL(fileURLWithPath: dir).appendingPathComponent("testdata")
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }

    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    public static var gpsdCaptures: URL { root.appendingPathComponent("gpsd") }
    public static var tracks: URL { root.appendingPathComponent("tracks") }

    /// Every `X.log` that has an `X.log.chk` beside it, sorted by name.
    public static func gpsdLogs() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: gpsdCaptures.path)
            .filter { $0.hasSuffix(".log") && FileManager.default.fileExists(atPath: gpsdCaptures.appendingPathComponent($0 + ".chk").path) }
            .sorted()
            .map { gpsdCaptures.appendingPathComponent($0) }
    }
}
