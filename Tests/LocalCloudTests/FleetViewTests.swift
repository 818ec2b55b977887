import Foundation
import Testing
@testable import LocalCloud
import TrackerCore

/// What the dashboard keeps from what arrives, and the broker's connection lines it reads.
@Suite struct FleetViewTests {
    static func fix(_ second: Int, lat: Double = 10.15) -> String {
        let time = UTCTimestamp(iso8601: "2020-03-02T08:00:00Z")!.adding(milliseconds: Int64(second) * 1000)
        return FixPayload.encode(Fix(time: time, mode: .threeD, latitude: lat, longitude: 10.2, speed: 12.5), deviceID: "d1", format: .extended)!
    }

    static func json(_ text: String) -> JSONValue { JSONValue.parse(Array(text.utf8))! }

    func streamEvents(_ view: FleetView, after id: Int = 0) -> [String] { (view.messages(after: id) ?? []).map(\.event) }

    @Test func theBrokersConnectionLinesAreRead() {
        #expect(MosquittoConnectionLine("1796038803: New client connected from 127.0.0.1:48928 as dup (p2, c1, k60).") == .connected(clientID: "dup"))
        #expect(MosquittoConnectionLine("1796038803: New client connected from 127.0.0.1:48928 as tracker_1 (p2, c0, k30, u'CN=abc (1)').")
                == .connected(clientID: "tracker_1"))
        #expect(MosquittoConnectionLine("1796038804: Client dup disconnected.") == .disconnected(clientID: "dup", reason: "disconnected"))
        #expect(MosquittoConnectionLine("1796038804: Client t1 closed its connection.") == .disconnected(clientID: "t1", reason: "closed its connection"))
        #expect(MosquittoConnectionLine("1796038804: Client t1 has exceeded timeout, disconnecting.")
                == .disconnected(clientID: "t1", reason: "has exceeded timeout, disconnecting"))
        #expect(MosquittoConnectionLine("1796038804: Client t1 been disconnected by administrative action.")
                == .disconnected(clientID: "t1", reason: "been disconnected by administrative action"))
        #expect(MosquittoConnectionLine("1796038804: Client t1 disconnected, not authorised.") == .disconnected(clientID: "t1", reason: "disconnected, not authorised"))
        #expect(MosquittoConnectionLine("1796038804: Socket error on client t1, disconnecting.") == .disconnected(clientID: "t1", reason: "socket error"))
        for other in ["1796038804: Client dup already connected, closing old connection.", "1796038804: Received DISCONNECT from dup",
                      "1796038803: New connection from 127.0.0.1:48928 on port 18999.", "1796038804: Sending CONNACK to dup (0, 0)"] {
            #expect(MosquittoConnectionLine(other) == nil, "\(other)")
        }
    }

    @Test func aThingIsRegisteredConnectsAndMoves() {
        var view = FleetView()
        // The broker's line can come before the registry knows the thing (a device provisioned elsewhere).
        view.connection("tracker_1", connected: true, at: "2026-11-30T10:00:00.000Z")
        #expect(view.things.isEmpty && view.lastID == 0)
        view.received(topic: "gpsTopic", clientID: "tracker_1", payload: Self.json(Self.fix(0)), at: "2026-11-30T10:00:01.000Z")
        #expect(view.things["tracker_1"]?.connected == true && view.things["tracker_1"]?.connectionChangedAt == "2026-11-30T10:00:00.000Z")
        #expect(view.things["tracker_1"]?.registeredAt == nil && view.things["tracker_1"]?.deviceID == "d1")
        view.registered("tracker_1", at: "2026-11-30T09:59:59Z", attributes: ["serialNumber": "d1"])
        view.received(topic: "trackers/tracker_1/status", clientID: "tracker_1", payload: Self.json(#"{"state":"online","version":"0.1.0"}"#),
                      at: "2026-11-30T10:00:02.000Z")
        let thing = view.things["tracker_1"]!
        #expect(thing.version == "0.1.0" && thing.registeredAt == "2026-11-30T09:59:59Z" && thing.fixes == 1)
        #expect(FleetView.json(thing)["lastPosition"]?["speed"] == .number(12.5))
        #expect(streamEvents(view) == ["thing", "track", "thing", "thing"])
        view.connection("tracker_1", connected: false, reason: "has exceeded timeout, disconnecting", at: "2026-11-30T10:05:00.000Z")
        view.connection("tracker_1", connected: false, at: "2026-11-30T10:05:01.000Z")
        #expect(view.things["tracker_1"]?.connected == false)
        #expect(view.events.map(\.summary) == ["disconnected (has exceeded timeout, disconnecting)"], "a repeat is no change")
        // A fix whose publisher the broker's log did not name goes to the thing registered with its device id.
        view.registered("tracker_2", at: "2026-11-30T09:59:59Z", attributes: ["serialNumber": "d2"])
        let other = FixPayload.encode(Fix(time: UTCTimestamp(millisecondsSinceEpoch: 0), mode: .twoD, latitude: 1, longitude: 2), deviceID: "d2", format: .gpsInput)!
        view.received(topic: "gpsTopic", clientID: nil, payload: Self.json(other), at: "2026-11-30T10:05:01.500Z")
        #expect(view.things["tracker_2"]?.fixes == 1 && view.things.count == 2)
        // localcloud's own clients are not things.
        view.connection("localcloud-rules", connected: true, at: "2026-11-30T10:05:02.000Z")
        #expect(view.things.count == 2)
    }

    @Test func aBacklogIsSortedIntoTheTrackOnce() {
        var view = FleetView(trackLimit: 5)
        for second in [10, 11] {
            view.received(topic: "gpsTopic", clientID: "t", payload: Self.json(Self.fix(second)), at: "now")
        }
        // The outage's fixes come after the live ones, in a batch, and one of them again (a lost PUBACK).
        let batch = #"{"fixes":["# + [7, 8, 9].map { Self.fix($0) }.joined(separator: ",") + "]}"
        view.received(topic: "trackers/t/backlog", clientID: "t", payload: Self.json(batch), at: "now")
        view.received(topic: "trackers/t/backlog", clientID: "t", payload: Self.json(#"{"fixes":["# + Self.fix(9) + "]}"), at: "now")
        let track = view.things["t"]!.track
        #expect(track.map { $0.time.iso8601 } == (7...11).map { "2020-03-02T08:00:\(String(format: "%02d", $0)).000Z" })
        #expect(view.things["t"]!.fixes == 6, "every fix received counts")
        // Over the limit, the oldest go.
        view.received(topic: "gpsTopic", clientID: "t", payload: Self.json(Self.fix(12)), at: "now")
        #expect(view.things["t"]!.track.first?.time.iso8601 == "2020-03-02T08:00:08.000Z" && view.things["t"]!.track.count == 5)
        // The duplicate added no track message; the batch one with its three points.
        let tracks = (view.messages(after: 0) ?? []).filter { $0.event == "track" }.map { JSONValue.parse($0.data)!["points"] }
        #expect(tracks.map { if case .array(let points)? = $0 { points.count } else { -1 } } == [1, 1, 3, 1])
    }

    @Test func eventsAreKeptNumberedAndSummarised() throws {
        var view = FleetView(eventLimit: 3)
        let time = UTCTimestamp(iso8601: "2020-03-02T08:06:59Z")!
        let position = GeoPoint(latitude: 10.15, longitude: 10.2)
        let geofence = GeofenceEvent(zone: "depot", kind: .onEnter, state: .outOfBoundary, previous: .inBoundary, position: position, time: time)
        view.received(topic: "trackers/t/geofence", clientID: nil, payload: Self.json(geofence.json(deviceID: "d1")), at: "r1")
        let end = MotionEvent(kind: .tripEnd, time: time, position: position, distance: 12_345, duration: 900, maxSpeed: 25)
        view.received(topic: "trackers/t/alerts", clientID: "t", payload: Self.json(end.json(deviceID: "d1")), at: "r2")
        let overspeed = MotionEvent(kind: .overspeedStart, time: time, position: position, maxSpeed: 20, speed: 25, zone: "yard")
        view.received(topic: "trackers/t/alerts", clientID: "t", payload: Self.json(overspeed.json(deviceID: "d1")), at: "r3")
        view.jobExecution(thing: "t", jobId: "j1", status: "FAILED", details: ["reason": "sha256 mismatch"], at: "r4")
        #expect(view.events.map(\.kind) == ["trip", "overspeed", "job"], "the oldest goes past the limit")
        #expect(view.events.map(\.summary) == ["TripEnd: 12.35 km, 15 min, top 25 m/s (90 km/h)",
                                               "OverspeedStart: 25 m/s (90 km/h), limit 20 m/s (72 km/h) in yard",
                                               "job j1: FAILED (reason=sha256 mismatch)"])
        #expect(view.events.map(\.id) == view.events.map(\.id).sorted() && view.events.last?.id == view.lastID)
        // The thing of a message with no publisher is the topic's.
        #expect(view.things.keys.sorted() == ["t"])
        let first = try #require(view.messages(after: 0)?.first { $0.event == "event" })
        #expect(JSONValue.parse(first.data)?["summary"] == .string("depot: OnEnter OutOfBoundary (was InBoundary)"))
        #expect(String(decoding: first.wire, as: UTF8.self).hasPrefix("id: \(first.id)\nevent: event\ndata: {"))
    }

    @Test func aPageTooFarBehindIsToldToLoadAgain() {
        var view = FleetView(messageLimit: 4)
        for second in 0..<6 { view.received(topic: "gpsTopic", clientID: "t", payload: Self.json(Self.fix(second)), at: "now") }
        #expect(view.lastID == 12)
        #expect(view.messages(after: 12) == [])
        #expect(view.messages(after: 8)?.map(\.id) == [9, 10, 11, 12])
        #expect(view.messages(after: 7) == nil, "message 8 is no longer kept")
    }

    @Test func aRestartedLocalCloudReplaysItsReceivedFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("received-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        var lines: [String] = []
        for second in 0..<50 {
            lines.append(#"{"clientId":"t","payload":\#(Self.fix(second)),"receivedAt":"2026-11-30T10:00:\#(String(format: "%02d", second)).000Z","topic":"gpsTopic"}"#)
        }
        lines.append("not json")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let activity = FleetActivity()
        #expect(activity.replay(received: file.path) == 50)
        #expect(activity.read { $0.things["t"]?.track.count } == 50)
        // Only the tail: the line cut in two is not read.
        let tail = FleetActivity()
        let lineLength = lines[0].utf8.count + 1
        #expect(tail.replay(received: file.path, lastBytes: lineLength * 10 + 3) == 9)
    }

    @Test func zonesComeFromTheFileAndTheShadowsOnceEach() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zones-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let square = #"{"type":"Polygon","coordinates":[[[10.1,10.1],[10.2,10.1],[10.2,10.2],[10.1,10.2],[10.1,10.1]]]}"#
        let yard = #"{"type":"Polygon","coordinates":[[[10.16,10.03],[10.26,10.03],[10.26,10.07],[10.16,10.03]]]}"#
        func feature(_ name: String, _ geometry: String) -> String { #"{"type":"Feature","properties":{"name":"\#(name)"},"geometry":\#(geometry)}"# }
        for (thing, part, zones) in [("t1", "reported", [feature("depot", square), feature("yard", yard)]), ("t2", "desired", [feature("yard", yard)]),
                                     ("t3", "reported", [feature("depot", yard)])] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("shadows/\(thing)"), withIntermediateDirectories: true)
            try #"{"\#(part)":{"geofences":{"type":"FeatureCollection","features":[\#(zones.joined(separator: ","))]}},"version":1}"#
                .write(to: directory.appendingPathComponent("shadows/\(thing)/trackerd.json"), atomically: true, encoding: .utf8)
        }
        let file = directory.appendingPathComponent("zones.geojson")
        try #"{"geofences":{"type":"FeatureCollection","features":[\#(feature("depot", square))]}}"#.write(to: file, atomically: true, encoding: .utf8)
        let zones = try FleetZones(file: file.path, shadowsDirectory: directory.appendingPathComponent("shadows").path)
        guard case .array(let features)? = zones.collection()["features"] else { Issue.record("no features"); return }
        let summary = features.map { feature -> String in
            let properties = feature["properties"]!
            let things = if case .array(let list)? = properties["things"] { list.compactMap(\.textValue) } else { [String]() }
            return "\(properties["name"]!.textValue!) \(properties["source"]!.textValue!) \(things.joined(separator: ","))"
        }
        #expect(summary == ["depot file t1", "yard shadow t1,t2", "depot shadow t3"], "same name and shape: one zone")
        #expect(throws: FleetZones.Invalid.self) { try FleetZones(file: directory.path + "/missing.geojson", shadowsDirectory: directory.path) }
        try #"{"type":"Point"}"#.write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: FleetZones.Invalid.self) { try FleetZones(file: file.path, shadowsDirectory: directory.path) }
    }
}
