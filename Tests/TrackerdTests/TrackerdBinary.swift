import Foundation
import TestSupport

/// The `trackerd` executable built next to the test bundle, and inputs made for it.
enum TrackerdBinary {
    static var path: String {
        URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("trackerd").path
    }

    static func start(_ arguments: [String], environment: [String: String] = [:], stdinPath: String = "/dev/null",
                      stderrPath: String? = nil) throws -> ChildProcess {
        try ChildProcess(path, arguments, environment: environment, stdinPath: stdinPath, stderrPath: stderrPath)
    }

    static var seedDrive: URL { SharedTestData.tracks.appendingPathComponent("seed-drive.nmea") }

    /// The cycles of the seed drive whose GGA time of day (hhmmss) lies in `range`: a short drive.
    static func seedDriveCut(_ range: ClosedRange<Int>, into file: URL) throws {
        let text = try String(contentsOf: seedDrive, encoding: .utf8)
        var keep = false
        var out = ""
        for line in text.split(whereSeparator: \.isNewline) {
            if line.dropFirst(3).hasPrefix("GGA"), let time = Int(line.split(separator: ",")[1].prefix(6)) {
                keep = range.contains(time)
            }
            if keep { out += line + "\n" }
        }
        try out.write(to: file, atomically: true, encoding: .utf8)
    }
}
