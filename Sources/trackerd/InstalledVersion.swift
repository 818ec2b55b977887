import TrackerCore
import TrackerSystem

/// The version of the package this trackerd was installed from (`/usr/lib/trackerd/version`,
/// written by the package build), else the compiled one: what the presence message, the status
/// and the jobs report, and what an install-package job waits to see running.
enum InstalledVersion {
    static let path = "/usr/lib/trackerd/version"

    static func read() -> String {
        guard let bytes = try? FileReader.readAll(path) else { return TrackerCore.version }
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
        return text.isEmpty || text.utf8.count > 128 ? TrackerCore.version : text
    }
}

private extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        return String(scalars)
    }
}
