import Foundation
import Testing
import TestSupport

/// trackerd's command line (its own parser since issue 17): the commands, their options in both
/// forms, help, and a usage error's exit status 64 (EX_USAGE) with a message that names it.
@Suite struct CommandLineTests {
    /// Runs trackerd to its end: exit status, stdout, stderr.
    static func run(_ arguments: [String]) async throws -> (status: Int32?, out: [String], err: [String]) {
        let process = try TrackerdBinary.start(arguments)
        let status = await process.waitForExit(timeout: .seconds(20))
        return (status, process.stdoutLines.items, process.stderrLines.items)
    }

    @Test func versionAndHelp() async throws {
        let version = try await Self.run(["--version"])
        #expect(version.status == 0 && version.out.count == 1 && version.out.first?.first?.isNumber == true, "\(version.out)")
        let help = try await Self.run(["--help"])
        #expect(help.status == 0)
        for command in ["run", "status", "provision", "simulate", "decode", "check-config", "queue stats"] {
            #expect(help.out.contains { $0.hasPrefix("  \(command) ") }, "--help lists \(command)")
        }
        let run = try await Self.run(["run", "--help"])
        #expect(run.status == 0)
        #expect(run.out.first == "OVERVIEW: Run the tracker: read fixes from the configured source and report them.")
        #expect(run.out.contains { $0.hasPrefix("  --replay-speed <factor>") })
        #expect(try await Self.run(["help", "run"]).out == run.out, "`help run` is `run --help`")
        let stats = try await Self.run(["queue", "stats", "-h"])
        #expect(stats.status == 0 && stats.out.contains { $0.hasPrefix("USAGE: trackerd queue stats [--config <file>] [--json]") })
    }

    @Test(arguments: [
        (["run", "--bogus"], "unknown option '--bogus'"),
        (["run", "--replay-speed", "fast"], "--replay-speed must be a number from 0 to 10000, not 'fast'"),
        (["run", "--replay-speed=20000"], "--replay-speed must be a number from 0 to 10000, not '20000'"),
        (["run", "--log-level", "loud"], "--log-level must be one of trace, debug, info, notice, warning, error, critical, not 'loud'"),
        (["run", "--config"], "--config needs a value (file)"),
        (["status", "--json=yes"], "--json takes no value"),
        (["simulate"], "missing <track>"),
        (["decode", "a.nmea", "b.nmea"], "unexpected argument 'b.nmea'"),
        (["fly"], "unknown command 'fly'"),
        (["queue"], "'queue' needs a command: stats"),
        ([], "a command is needed"),
    ])
    func usageErrorsExit64AndSayWhy(arguments: [String], message: String) async throws {
        let result = try await Self.run(arguments)
        #expect(result.status == 64)
        #expect(result.err.first == "Error: \(message)", "\(result.err)")
        #expect(result.err.contains { $0.hasPrefix("Usage: trackerd") })
        #expect(result.out.isEmpty)
    }

    /// `--name=value` and `--name value` are the same; `--` ends the options.
    @Test func bothOptionFormsAndTheEndOfOptions() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = dir.file("t.toml")
        try "[device]\nid = \"cli-1\"\n".write(to: config, atomically: true, encoding: .utf8)
        let spaced = try await Self.run(["check-config", "--config", config.path])
        let joined = try await Self.run(["check-config", "--config=\(config.path)"])
        #expect(spaced.status == 0 && spaced.out == ["\(config.path): valid"])
        #expect(joined.status == 0 && joined.out == spaced.out)
        let capture = dir.file("one.nmea")
        try sentenceLine("GPRMC,080320.00,A,1009.0000,N,01009.0000,E,10.0,0.0,020320,,,A").write(to: capture, atomically: true, encoding: .utf8)
        let decoded = try await Self.run(["decode", "--", capture.path])
        #expect(decoded.status == 0 && decoded.out.count == 1, "an argument after --: \(decoded.err)")
    }
}
