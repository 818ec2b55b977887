import Foundation
import Testing
import TestSupport

/// AWS IoT Jobs through localcloud, as the real executables: jobs created with `localcloud job`,
/// files served over HTTPS by `localcloud serve`, a parked tracker taking them.
@Suite struct JobsEndToEndTests {
    typealias Cloud = ProvisioningEndToEndTests.LocalCloudSetup
    static let thing = ShadowEndToEndTests.thing

    /// 10,000 small squares on a 0.001° grid around 10.15,10.15; the parked tracker is in
    /// `zone-50-50`.
    static func zoneSet() -> String {
        var features: [String] = []
        for i in 0..<100 {
            for j in 0..<100 {
                let lat = 10.1 + Double(i) * 0.001, lng = 10.1 + Double(j) * 0.001, h = 0.0004
                func p(_ a: Double, _ b: Double) -> String { "[\(String(format: "%.4f", b)),\(String(format: "%.4f", a))]" }
                let ring = [p(lat - h, lng - h), p(lat - h, lng + h), p(lat + h, lng + h), p(lat + h, lng - h), p(lat - h, lng - h)]
                features.append(#"{"type":"Feature","properties":{"name":"zone-\#(i)-\#(j)"},"geometry":{"type":"Polygon","coordinates":[[\#(ring.joined(separator: ","))]]}}"#)
            }
        }
        return #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ",\n"))]}"#
    }

    static func sha256(_ path: String) async throws -> String {
        let run = try ChildProcess("/usr/bin/sha256sum", [path])
        _ = await run.waitForExit(timeout: .seconds(20))
        return String(run.stdoutLines.items.first?.prefix(64) ?? "")
    }

    static func createJob(_ cloud: Cloud, id: String, document: String) async throws {
        let file = cloud.dir.file("job-\(id).json")
        try document.write(to: file, atomically: true, encoding: .utf8)
        let create = try ChildProcess(Cloud.executable, ["job", cloud.cloud, "create", "--thing", thing, "--document", file.path,
                                                         "--job-id", id, "--port", String(cloud.port)])
        #expect(await create.waitForExit(timeout: .seconds(20)) == 0, "\(create.stderrLines.items)")
    }

    /// localcloud's line for a status the device reported.
    static func ended(_ lines: [String], _ jobId: String, _ status: String) -> String? {
        lines.first { $0.contains("jobs: \(thing) \(jobId) now ") && $0.contains(#""status":"\#(status)""#) }
    }

    @Test func tenThousandZonesArriveByJobAndTheirEventsFollow() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let parked = try await ShadowEndToEndTests.park(cloud)
        defer { parked.run.signal(SIGTERM) }
        let zones = cloud.cloud + "/files/zones.geojson"
        try Self.zoneSet().write(toFile: zones, atomically: true, encoding: .utf8)
        let sha = try await Self.sha256(zones)
        try await Self.createJob(cloud, id: "zones-1", document: #"""
            {"operation":"update-geofences","url":"https://localhost:\#(cloud.filesPort)/zones.geojson","sha256":"\#(sha)"}
            """#)
        let entered = await parked.watcher.stdoutLines.wait(timeout: .seconds(120)) { lines in
            lines.contains { $0.hasPrefix("trackers/\(Self.thing)/geofence ") && $0.contains(#""zone":"zone-50-50""#) && $0.contains("InBoundary") }
        }
        #expect(entered, "\(parked.run.stderrLines.items.suffix(3)) \(cloud.serve.stderrLines.items.suffix(3))")
        #expect(parked.zoneEvents().count == 1, "only the zone it is in is announced, not the 9,999 it is outside of")
        #expect(await cloud.serve.stderrLines.wait(timeout: .seconds(30)) { Self.ended($0, "zones-1", "SUCCEEDED") != nil })
        #expect(Self.ended(cloud.serve.stderrLines.items, "zones-1", "SUCCEEDED")?.contains(#""zones":"10000""#) == true)
        #expect(parked.run.stderrLines.items.contains { $0.contains("job zones-1: downloaded 100 %") })
        let status = try TrackerdBinary.start(["status"], environment: ["RUNTIME_DIRECTORY": parked.runtime])
        #expect(await status.waitForExit(timeout: .seconds(10)) == 0)
        #expect(status.stdoutLines.items.contains { $0.hasPrefix("setting geofences = 10000 zones: zone-0-0,") && $0.hasSuffix("(job)") },
                "\(status.stdoutLines.items)")

        // Kept: a restart (cloud gone) evaluates the same 10,000 zones.
        parked.run.signal(SIGTERM)
        #expect(await parked.run.waitForExit(timeout: .seconds(15)) == 0)
        cloud.serve.signal(SIGTERM)
        _ = await cloud.serve.waitForExit(timeout: .seconds(10))
        let away = cloud.dir.file("away.nmea")
        try (2000..<2005).map { DrainEndToEndTests.line($0, at: "1003.0000,N,01003.0000,E") }.joined().write(to: away, atomically: true, encoding: .utf8)
        let offline = try TrackerdBinary.start(["run", "--config", parked.config, "--replay", away.path, "--replay-speed", "0"])
        defer { offline.signal(SIGTERM) }
        #expect(await offline.stderrLines.wait(timeout: .seconds(60)) { $0.contains { $0.contains("geofence zone-50-50: OnEnter OutOfBoundary (was InBoundary)") } },
                "\(offline.stderrLines.items.suffix(5))")
        #expect(offline.stderrLines.items.contains { $0.contains("10000 zones from") && $0.contains("are in force") })
    }

    /// Each way a job can go wrong ends in its status with the reason, and the tracker goes on to
    /// the next job: a wrong sha256, a missing file, an operation it does not know.
    @Test func everyFailureEndsWithItsStatusAndReason() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let parked = try await ShadowEndToEndTests.park(cloud)
        defer { parked.run.signal(SIGTERM) }
        let zones = cloud.cloud + "/files/small.geojson"
        try #"{"type":"FeatureCollection","features":[]}"#.write(toFile: zones, atomically: true, encoding: .utf8)
        let url = "https://localhost:\(cloud.filesPort)"
        try await Self.createJob(cloud, id: "bad-hash", document: #"{"operation":"update-geofences","url":"\#(url)/small.geojson","sha256":"\#(String(repeating: "0", count: 64))"}"#)
        try await Self.createJob(cloud, id: "missing", document: #"{"operation":"update-geofences","url":"\#(url)/nothing.geojson","sha256":"\#(String(repeating: "1", count: 64))"}"#)
        try await Self.createJob(cloud, id: "odd", document: #"{"operation":"reboot"}"#)
        let log = cloud.serve.stderrLines
        #expect(await log.wait(timeout: .seconds(60)) { lines in
            Self.ended(lines, "bad-hash", "FAILED") != nil && Self.ended(lines, "missing", "FAILED") != nil && Self.ended(lines, "odd", "REJECTED") != nil
        }, "\(log.items.suffix(5))")
        #expect(Self.ended(log.items, "bad-hash", "FAILED")?.contains("sha256 mismatch: the document says 0000") == true)
        #expect(Self.ended(log.items, "missing", "FAILED")?.contains("download failed: HTTP 404") == true)
        #expect(Self.ended(log.items, "odd", "REJECTED")?.contains(#"unknown operation \"reboot\""#) == true)
        let list = try ChildProcess(Cloud.executable, ["job", cloud.cloud, "list"])
        #expect(await list.waitForExit(timeout: .seconds(10)) == 0)
        #expect(list.stdoutLines.items.sorted() == ["bad-hash \(Self.thing)=FAILED", "missing \(Self.thing)=FAILED", "odd \(Self.thing)=REJECTED"])
        #expect(parked.zoneEvents().isEmpty, "no zone set was applied")
    }
}
