import Foundation
import Testing
import TestSupport

@Suite struct CheckConfigCommandTests {
    @Test func theExampleConfigIsValid() async throws {
        let example = SharedTestData.repositoryRoot.appendingPathComponent("etc/trackerd.toml").path
        let run = try TrackerdBinary.start(["check-config", "--config", example])
        #expect(await run.waitForExit(timeout: .seconds(10)) == 0)
        #expect(run.stdoutLines.items == ["\(example): valid"])
    }

    @Test func everyErrorIsListedWithFileLineAndKey() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("bad.toml")
        try "[gps]\nsource = \"serial\"\nbaud = 1200\nspeed = 3\n".write(to: file, atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["check-config", "--config", file.path])
        #expect(await run.waitForExit(timeout: .seconds(10)) == 1)
        #expect(run.stderrLines.items == [
            "\(file.path):3: gps.baud: 1200 is not a supported baud rate (4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)",
            "\(file.path):4: gps.speed: unknown key; [gps] takes source, gpsd_host, gpsd_port, device, baud, replay_file, replay_speed, stale_after_s, min_interval_s, min_distance_m",
        ])
    }

    @Test func aMissingFileFails() async throws {
        let run = try TrackerdBinary.start(["check-config", "--config", "/nonexistent/trackerd.toml"])
        #expect(await run.waitForExit(timeout: .seconds(10)) == 1)
        #expect(run.stderrLines.items == ["cannot read /nonexistent/trackerd.toml: No such file or directory"])
    }

    /// systemd's ExecCondition= runs this before the daemon: the example file the package ships
    /// keeps the unit stopped, a file with an endpoint starts it, and a broken file starts it too
    /// so that `run` fails loudly instead of the unit being skipped without a word.
    @Test func configuredAnswersTheUnitsExecCondition() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let example = SharedTestData.repositoryRoot.appendingPathComponent("etc/trackerd.toml").path
        let withEndpoint = dir.file("configured.toml")
        try "[mqtt]\nendpoint = \"broker.example\"\n".write(to: withEndpoint, atomically: true, encoding: .utf8)
        let broken = dir.file("broken.toml")
        try "[mqtt]\nport = \"x\"\n".write(to: broken, atomically: true, encoding: .utf8)

        let cases: [(String, Int32, String)] = [
            (example, 1, "\(example) names no [mqtt] endpoint: trackerd is not configured yet"),
            (withEndpoint.path, 0, "\(withEndpoint.path): configured for broker.example"),
            (broken.path, 0, "\(broken.path) has errors: starting trackerd, which reports them"),
            ("/nonexistent/trackerd.toml", 1, "/nonexistent/trackerd.toml does not exist: trackerd is not configured yet"),
        ]
        for (file, status, line) in cases {
            let run = try TrackerdBinary.start(["check-config", "--configured", "--config", file])
            #expect(await run.waitForExit(timeout: .seconds(10)) == status, "\(file)")
            #expect(run.stdoutLines.items == [line])
        }
    }
}
