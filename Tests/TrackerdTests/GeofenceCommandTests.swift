import Foundation
import Testing
import TestSupport

/// `trackerd simulate` and geofences in `trackerd run`, on the seed drive across the original box.
@Suite struct GeofenceCommandTests {
    static func config(_ dir: TemporaryDirectory, hysteresis: Double = 0, extra: String = "") throws -> String {
        let file = dir.file("geo.toml")
        try """
        [device]
        id = "1"
        [store]
        dir = "\(dir.path)/state"
        [report]
        # Every fix, and no trip events (no trip starts under 50 m/s): the counts below are the seed's.
        policy = "every-fix"
        stop_speed_mps = 50
        [[geofence]]
        name = "depot"
        box = { min_lat = 10.1, max_lat = 10.2, min_lng = 10.1, max_lng = 10.2 }
        hysteresis_m = \(hysteresis)
        \(extra)
        """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func simulate(_ config: String, cwd: String? = nil) async throws -> [String] {
        let run = try TrackerdBinary.start(["simulate", "--config", config, TrackerdBinary.seedDrive.path])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0)
        return run.stdoutLines.items
    }

    static func events(_ lines: [String]) -> [[String: Any]] {
        lines.compactMap { line -> [String: Any]? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["topic"] as? String == "trackers/1/geofence" else { return nil }
            return object["payload"] as? [String: Any]
        }
    }

    @Test func simulateShowsEveryMessageIncludingTheFlappingEdgeAndRepeatsItself() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try Self.config(dir)
        let first = try await Self.simulate(config)
        let second = try await Self.simulate(config)
        #expect(first == second, "the same track gives the same lines")
        #expect(first.count == 2481 + 297)
        let events = Self.events(first)
        #expect(events.count == 297)
        #expect(events.filter { $0["event"] as? String == "OnEnter" }.count == 149)
        #expect(events.first?["previous"] == nil && events.first?["state"] as? String == "InBoundary")
        let edge = events.filter { ($0["time"] as? String ?? "") >= "2020-03-02T08:37" && ($0["time"] as? String ?? "") < "2020-03-02T08:42" }
        #expect(edge.count == 292, "the drive along the northern edge flaps: 146 changes, each OnExit + OnEnter")
        #expect(first.first == #"{"topic":"gpsTopic","payload":{"gpsDeviceID":"1","gpsLat":10.1500233,"gpsLng":10.1500267,"gpsDatTm":"03/02/2020  08:03:20.000"}}"#)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/state"), "simulate writes nothing but its output")
    }

    @Test func tenMetresOfHysteresisEndTheFlapping() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let events = Self.events(try await Self.simulate(try Self.config(dir, hysteresis: 10)))
        #expect(events.map { "\($0["time"] as? String ?? "") \($0["event"] as? String ?? "") \($0["state"] as? String ?? "")" } == [
            "2020-03-02T08:03:20.000Z OnEnter InBoundary",
            "2020-03-02T08:06:59.000Z OnExit InBoundary",
            "2020-03-02T08:06:59.000Z OnEnter OutOfBoundary",
            "2020-03-02T08:29:01.000Z OnExit OutOfBoundary",
            "2020-03-02T08:29:01.000Z OnEnter InBoundary",
        ])
    }
}
