import Foundation
import Testing
import TestSupport
import TrackerCore

/// The reporting policy on a synthetic city drive with stops, a tunnel and 3 m of position
/// noise (../shared/tools/make_track.py: exact ground truth), through `trackerd simulate`.
@Suite struct ReportingTests {
    /// Three legs and two stops of 5 minutes, a 20 s tunnel on the second leg, parked 10
    /// minutes at the end.
    static let route = """
    {"start": "2020-03-02T08:00:00Z", "speed_mps": 12,
     "waypoints": [[10.05, 10.05], [10.05, 10.08], [10.08, 10.08], [10.08, 10.05]],
     "leg_speeds_mps": [12, 15, 9],
     "stops": [[1, 300], [2, 300], [3, 600]],
     "outages": [[700, 720]],
     "jitter_m": 3}
    """

    struct Truth: Decodable {
        let time: String
        let valid: Bool
        let path_lat: Double
        let path_lon: Double
        let speed: Double
    }

    static func metres(_ a: Truth, _ b: Truth) -> Double {
        GreatCircle.distance(latitude1: a.path_lat, longitude1: a.path_lon, latitude2: b.path_lat, longitude2: b.path_lon)
    }

    @Test func tripsOdometerAndFewMessagesOnACityDrive() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let routeFile = dir.file("route.json")
        try Self.route.write(to: routeFile, atomically: true, encoding: .utf8)
        let tool = SharedTestData.root.deletingLastPathComponent().appendingPathComponent("tools/make_track.py").path
        let make = try ChildProcess("/usr/bin/python3", [tool, "--seed", "3", "city", routeFile.path, dir.path])
        #expect(await make.waitForExit(timeout: .seconds(30)) == 0, "\(make.stderrLines.items)")
        let truth = try String(contentsOf: dir.file("city.truth.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(Truth.self, from: Data($0.utf8)) }
        // The true path while moving, stop to stop.
        var trips: [Double] = [0]
        for (a, b) in zip(truth, truth.dropFirst()) {
            if b.speed > 0 || a.speed > 0 { trips[trips.count - 1] += Self.metres(a, b) }
            if a.speed > 0 && b.speed == 0 { trips.append(0) }
        }
        trips = trips.filter { $0 > 0 }
        #expect(trips.count == 3)

        let config = dir.file("t.toml")
        try "[device]\nid = \"1\"\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["simulate", "--config", config.path, dir.file("city.nmea").path])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0)
        let lines = run.stdoutLines.items.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let alerts = lines.filter { $0["topic"] as? String == "trackers/1/alerts" }.compactMap { $0["payload"] as? [String: Any] }
        let fixes = lines.filter { $0["topic"] as? String == "gpsTopic" }
        #expect(alerts.map { $0["event"] as? String ?? "" } == ["TripStart", "TripEnd", "TripStart", "TripEnd", "TripStart", "TripEnd"])
        let measured = alerts.compactMap { $0["distance_m"] as? Double }
        #expect(measured.count == 3)
        for (got, want) in zip(measured, trips) {
            #expect(abs(got - want) / want < 0.03, "trip of \(want) m measured as \(got) m")
        }
        let valid = truth.filter(\.valid).count
        #expect(fixes.count * 10 < valid, "\(fixes.count) messages for \(valid) fixes")
        print("city drive: \(valid) fixes, \(fixes.count) published; trips \(trips.map { Int($0) }) m measured \(measured.map { Int($0) }) m")

        // Speeding: 15 m/s on the second leg against a limit of 14.
        let speeding = dir.file("speeding.toml")
        try "[device]\nid = \"1\"\n[report]\noverspeed_mps = 14\n".write(to: speeding, atomically: true, encoding: .utf8)
        let fast = try TrackerdBinary.start(["simulate", "--config", speeding.path, dir.file("city.nmea").path])
        #expect(await fast.waitForExit(timeout: .seconds(60)) == 0)
        let overspeeds = fast.stdoutLines.items.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .compactMap { $0["payload"] as? [String: Any] }.filter { ($0["event"] as? String ?? "").hasPrefix("Overspeed") }
        #expect(overspeeds.map { $0["event"] as? String ?? "" } == ["OverspeedStart", "OverspeedEnd"], "\(overspeeds)")
        #expect(overspeeds.first?["max_speed_mps"] as? Double == 14 && (overspeeds.first?["speed_mps"] as? Double ?? 0) > 14)

        // The odometer survives restarts: two runs of the drive, twice the distance, in the
        // store and in the extended payload.
        let runConfig = dir.file("run.toml")
        try "[device]\nid = \"1\"\n[payload]\nformat = \"extended\"\n[store]\ndir = \"\(dir.path)/state\"\n"
            .write(to: runConfig, atomically: true, encoding: .utf8)
        var odometers: [Double] = []
        for _ in 0..<2 {
            let replay = try TrackerdBinary.start(["run", "--config", runConfig.path, "--replay", dir.file("city.nmea").path,
                                                   "--replay-speed", "0"])
            #expect(await replay.waitForExit(timeout: .seconds(60)) == 0)
            let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/state/odometer.json"))) as? [String: Any]
            odometers.append(saved?["metres"] as? Double ?? 0)
        }
        let total = trips.reduce(0, +)
        #expect(abs(odometers[0] - total) / total < 0.03 && abs(odometers[1] - 2 * total) / total < 0.06, "\(odometers) for \(total) m a run")
        let extended = try TrackerdBinary.start(["simulate", "--config", runConfig.path, dir.file("city.nmea").path])
        #expect(await extended.waitForExit(timeout: .seconds(60)) == 0)
        let readings = extended.stdoutLines.items.compactMap { line -> Double? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["topic"] as? String == "gpsTopic" else { return nil }
            return (object["payload"] as? [String: Any])?["odometer_m"] as? Double
        }
        #expect(readings.count == fixes.count && readings == readings.sorted() && (readings.last ?? 0) > 9_000, "\(readings)")
    }
}
