import Foundation
import Testing
import TestSupport
import TrackerCore

/// `decode --gpx` read by gpsbabel (an independent GPX reader), and `simulate --geojson` against
/// the JSON lines `simulate` prints for the same drive.
@Suite struct ExportCommandTests {
    @Test func decodeWritesAGPXTrackGPSBabelReadsBackFixForFix() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let gpx = dir.file("seed.gpx")
        let decode = try TrackerdBinary.start(["decode", TrackerdBinary.seedDrive.path])
        let export = try TrackerdBinary.start(["decode", "--gpx", TrackerdBinary.seedDrive.path])
        #expect(await decode.waitForExit(timeout: .seconds(60)) == 0)
        #expect(await export.waitForExit(timeout: .seconds(60)) == 0)
        try (export.stdoutLines.items.joined(separator: "\n") + "\n").write(to: gpx, atomically: true, encoding: .utf8)
        #expect(export.stderrLines.items.first?.hasSuffix("2481 fixes, 60 no-fix, rejected 0") == true)
        // The seed drive loses its fix once (60 cycles in a tunnel): two segments.
        #expect(export.stdoutLines.items.filter { $0.contains("<trkseg>") }.count == 2)

        let fixes = decode.stdoutLines.items.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["lat"] != nil }
        #expect(fixes.count == 2481)
        let babel = try ChildProcess("/usr/bin/gpsbabel", ["-t", "-i", "gpx", "-f", gpx.path, "-o", "unicsv", "-F", "/dev/stdout"])
        #expect(await babel.waitForExit(timeout: .seconds(60)) == 0, "\(babel.stderrLines.items)")
        // unicsv ends its lines with CR LF.
        let rows = babel.stdoutLines.items.map { $0.trimmingCharacters(in: .newlines).split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.first == ["No", "Latitude", "Longitude", "Altitude", "FIX", "HDOP", "Satellites", "Date", "Time"])
        let points = Array(rows.dropFirst())
        #expect(points.count == fixes.count)
        for (row, fix) in zip(points, fixes) {
            let time = fix["time"] as? String ?? ""
            #expect(row[7] + " " + row[8] == time.prefix(10).replacingOccurrences(of: "-", with: "/") + " " + time.dropFirst(11).prefix(8))
            #expect(abs(Double(row[1])! - (fix["lat"] as! Double)) < 1e-6 && abs(Double(row[2])! - (fix["lon"] as! Double)) < 1e-6)
            #expect(Double(row[3]) == fix["altMSL"] as? Double)
            #expect(row[4] == "\"3d\"" && Int(row[6]) == fix["sats"] as? Int && Double(row[5]) == fix["hdop"] as? Double)
        }
    }

    @Test func simulateMapsWhatItWouldPublish() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // Trips and a speed limit in the depot, so every kind of feature is there.
        let config = try GeofenceCommandTests.config(dir, extra: "max_speed_mps = 20")
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text = text.replacingOccurrences(of: "stop_speed_mps = 50", with: "stop_speed_mps = 1")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let lines = try await GeofenceCommandTests.simulate(config)
        let run = try TrackerdBinary.start(["simulate", "--geojson", "--config", config, TrackerdBinary.seedDrive.path])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0)
        #expect(run.stdoutLines.items.count == 1, "one document")
        let collection = try #require(JSONValue.parse(Array((run.stdoutLines.items.first ?? "").utf8)))
        #expect(collection["type"] == .string("FeatureCollection"))
        guard case .array(let features)? = collection["features"] else {
            Issue.record("no features")
            return
        }
        func kind(_ feature: JSONValue) -> String { feature["properties"]?["kind"]?.textValue ?? "" }
        let published = lines.compactMap { JSONValue.parse(Array($0.utf8)) }
        let fixes = published.filter { $0["topic"] == .string("gpsTopic") }.compactMap { $0["payload"] }
        let geofence = published.filter { $0["topic"] == .string("trackers/1/geofence") }.compactMap { $0["payload"] }
        let motion = published.filter { $0["topic"] == .string("trackers/1/alerts") }.compactMap { $0["payload"] }
        #expect(!fixes.isEmpty && !geofence.isEmpty && motion.contains { $0["event"] == .string("OverspeedStart") })

        // Every published fix is a point where it was, in GeoJSON's [lng, lat] order.
        let points = features.filter { kind($0) == "fix" }
        #expect(points.count == fixes.count)
        for (point, fix) in zip(points, fixes) {
            #expect(point["geometry"]?["coordinates"] == .array([fix["gpsLng"]!, fix["gpsLat"]!]))
        }
        let events = features.filter { kind($0) == "geofence" }
        #expect(events.map { $0["properties"]?["event"] } == geofence.map { $0["event"] })
        #expect(events.map { $0["properties"]?["time"] } == geofence.map { $0["time"] })
        let alerts = features.filter { ["trip-event", "overspeed"].contains(kind($0)) }
        #expect(alerts.map { $0["properties"]?["event"] } == motion.map { $0["event"] })
        // A trip per TripStart, ending where its TripEnd is.
        let trips = features.filter { kind($0) == "trip" }
        let starts = motion.filter { $0["event"] == .string("TripStart") }
        let ends = motion.filter { $0["event"] == .string("TripEnd") }
        #expect(trips.count == starts.count && !trips.isEmpty)
        for (trip, end) in zip(trips, ends) {
            #expect(trip["properties"]?["end"] == end["time"] && trip["properties"]?["distance_m"] == end["distance_m"])
            guard case .array(let line)? = trip["geometry"]?["coordinates"] else { continue }
            #expect(line.last == .array([end["lng"]!, end["lat"]!]))
        }
        #expect(features.filter { kind($0) == "zone" }.map { $0["properties"]?["name"] } == [.string("depot")])
        print("simulate --geojson: \(features.count) features: \(points.count) fixes, \(trips.count) trips, \(events.count) geofence events, \(alerts.count) trip and overspeed events")
    }
}
