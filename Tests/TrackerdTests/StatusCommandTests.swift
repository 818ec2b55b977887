import Foundation
import Testing
import TestSupport

/// `trackerd status` reads what the running `trackerd run` keeps in its runtime directory.
@Suite struct StatusCommandTests {
    @Test func statusShowsTheRunningDaemonAndSaysWhenItIsNot() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let runtime = dir.path + "/run"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        let config = dir.file("t.toml")
        try """
        [store]
        dir = "\(dir.path)/state"
        [[geofence]]
        name = "depot"
        box = { min_lat = 10.1, max_lat = 10.2, min_lng = 10.1, max_lng = 10.2 }
        """.write(to: config, atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["run", "--config", config.path, "--replay", TrackerdBinary.seedDrive.path],
                                           environment: ["RUNTIME_DIRECTORY": runtime])
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("first fix") } })
        // The status is rewritten every 2 s: ask until it shows the fix (each ask is a new process).
        var json: [String: Any]?
        for _ in 0..<40 {
            let status = try TrackerdBinary.start(["status", "--json"], environment: ["RUNTIME_DIRECTORY": runtime])
            _ = await status.waitForExit(timeout: .seconds(10))
            if let line = status.stdoutLines.items.first,
               let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], object["lastFix"] is [String: Any] {
                json = object
                break
            }
        }
        let status = try #require(json)
        #expect(status["pid"] as? Int == Int(run.pid))
        #expect((status["zones"] as? [String: Any])?["depot"] as? String == "InBoundary")
        #expect(((status["lastFix"] as? [String: Any])?["fix"] as? [String: Any])?["mode"] as? Int == 3)
        #expect(status["mqtt"] is NSNull)

        let text = try TrackerdBinary.start(["status"], environment: ["RUNTIME_DIRECTORY": runtime])
        #expect(await text.waitForExit(timeout: .seconds(10)) == 0)
        #expect(text.stdoutLines.items.contains { $0.hasPrefix("last fix: ") && $0.contains("3D") })
        #expect(text.stdoutLines.items.contains("zone depot: InBoundary"))
        #expect(text.stdoutLines.items.contains { $0.hasPrefix("odometer: ") && $0.hasSuffix(" km (moving)") }, "\(text.stdoutLines.items)")

        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(3)) == 0)
        let stopped = try TrackerdBinary.start(["status"], environment: ["RUNTIME_DIRECTORY": runtime])
        #expect(await stopped.waitForExit(timeout: .seconds(10)) == 3)
        #expect(stopped.stderrLines.items.first?.hasPrefix("trackerd is not running") == true)
    }

    /// A receiver that went quiet: the file is not rewritten as the fix grows old (that would
    /// wake the board every 2 s for nothing), and `trackerd status` ages what it reads.
    @Test func aQuietTrackerLeavesTheFileAloneAndTheCommandAgesIt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let runtime = dir.path + "/run"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        let pty = try PseudoTerminal()
        let config = dir.file("t.toml")
        try """
        [gps]
        source = "serial"
        device = "\(pty.slavePath)"
        baud = 9600
        stale_after_s = 1
        [store]
        dir = "\(dir.path)/state"
        """.write(to: config, atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["run", "--config", config.path], environment: ["RUNTIME_DIRECTORY": runtime])
        // Logged once the tty is open and flushed: bytes written before would be lost.
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("reading NMEA from serial") } })
        pty.write(Array(DrainEndToEndTests.line(0).utf8))
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("fix lost: no new fix for 1 s") } },
                "\(run.stderrLines.items.suffix(3))")
        let file = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runtime + "/status.json"))) as? [String: Any]
        let written = try #require((file?["lastFix"] as? [String: Any])?["ageSeconds"] as? Double)
        #expect(written < 0.5, "the file was written when the fix came, not again as it aged: \(written) s")
        let status = try TrackerdBinary.start(["status", "--json"], environment: ["RUNTIME_DIRECTORY": runtime])
        #expect(await status.waitForExit(timeout: .seconds(10)) == 0)
        let object = try JSONSerialization.jsonObject(with: Data((status.stdoutLines.items.first ?? "").utf8)) as? [String: Any]
        let aged = try #require((object?["lastFix"] as? [String: Any])?["ageSeconds"] as? Double)
        #expect(aged >= 1.0, "lost after 1 s, so at least that old now: \(aged) s")
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(5)) == 0)
        pty.close()
    }
}
