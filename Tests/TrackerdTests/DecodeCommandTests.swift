import Foundation
import Testing
import TestSupport

@Suite struct DecodeCommandTests {
    @Test func decodesAFileToOneJSONObjectPerCycle() async throws {
        let run = try TrackerdBinary.start(["decode", TrackerdBinary.seedDrive.path])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0)
        let lines = run.stdoutLines.items
        #expect(lines.count == 2541)
        #expect(lines.first == #"{"time":"2020-03-02T08:03:20.000Z","mode":3,"quality":"gps","lat":10.150023333,"lon":10.150026667,"altMSL":42,"geoidSep":47,"speed":25.002,"track":90,"sats":9,"hdop":0.9,"pdop":1.6,"vdop":1.3,"eph":17.1}"#)
        let noFix = lines.filter { $0.contains(#""mode":1"#) }
        #expect(noFix.count == 60)
        #expect(noFix.allSatisfy { !$0.contains("\"lat\"") && $0.contains("\"time\"") })
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)")
        }
        #expect(run.stderrLines.items == [
            "\(TrackerdBinary.seedDrive.path): 10104 sentences (GGA 2541, GSA 2541, RMC 2541, VTG 2481), 2481 fixes, 60 no-fix, rejected 0",
        ])
    }

    @Test func readsStandardInputTheSameWay() async throws {
        let fromFile = try TrackerdBinary.start(["decode", TrackerdBinary.seedDrive.path])
        let fromStdin = try TrackerdBinary.start(["decode"], stdinPath: TrackerdBinary.seedDrive.path)
        #expect(await fromFile.waitForExit(timeout: .seconds(60)) == 0)
        #expect(await fromStdin.waitForExit(timeout: .seconds(60)) == 0)
        #expect(fromStdin.stdoutLines.items == fromFile.stdoutLines.items)
        #expect(fromStdin.stderrLines.items.first?.hasPrefix("stdin: 10104 sentences") == true)
    }

    @Test func countsRejectedLinesByReason() async throws {
        let noisy = SharedTestData.tracks.appendingPathComponent("seed-drive-noisy.nmea").path
        let run = try TrackerdBinary.start(["decode", noisy])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0)
        #expect(run.stdoutLines.items.count == 2541)
        #expect(run.stderrLines.items.first?.hasSuffix("2481 fixes, 60 no-fix, rejected 273 (truncated 273)") == true)
    }

    @Test func aMissingFileIsAClearError() async throws {
        let run = try TrackerdBinary.start(["decode", "/nonexistent/capture.nmea"])
        #expect(await run.waitForExit(timeout: .seconds(10)) == 66)
        #expect(run.stderrLines.items == ["trackerd decode: cannot read /nonexistent/capture.nmea: No such file or directory"])
        #expect(run.stdoutLines.items.isEmpty)
    }
}
