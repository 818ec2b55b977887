import Foundation
import Testing
import TestSupport
@testable import TrackerCore

@Suite struct ZoneShapeTests {
    let original = ZoneShape.box(minLatitude: 10.1, maxLatitude: 10.2, minLongitude: 10.1, maxLongitude: 10.2)

    func p(_ lat: Double, _ lon: Double) -> GeoPoint { GeoPoint(latitude: lat, longitude: lon) }

    @Test func theBoundaryIsInsideAsInTheOriginal() {
        #expect(original.contains(p(10.1, 10.1)) && original.contains(p(10.2, 10.2)) && original.contains(p(10.15, 10.2)))
        #expect(!original.contains(p(10.2000001, 10.15)) && !original.contains(p(10.15, 10.0999999)))
        let square = ZoneShape.polygons([[p(10.1, 10.1), p(10.1, 10.2), p(10.2, 10.2), p(10.2, 10.1)]])
        #expect(square.contains(p(10.2, 10.15)) && square.contains(p(10.1, 10.1)) && square.contains(p(10.15, 10.15)))
        #expect(!square.contains(p(10.2000001, 10.15)))
    }

    @Test func boxesAndPolygonsMayCrossTheAntimeridian() {
        let box = ZoneShape.box(minLatitude: -1, maxLatitude: 1, minLongitude: 179, maxLongitude: -179)
        #expect(box.contains(p(0, 179.5)) && box.contains(p(0, -179.5)) && box.contains(p(0, 180)))
        #expect(!box.contains(p(0, 0)) && !box.contains(p(0, 178.9)))
        let polygon = ZoneShape.polygons([[p(-1, 179), p(-1, -179), p(1, -179), p(1, 179)]])
        #expect(polygon.contains(p(0, 179.9)) && polygon.contains(p(0, -179.9)))
        #expect(!polygon.contains(p(0, 0)) && !polygon.contains(p(0, -178)))
    }

    @Test func circlesUseGreatCircleDistance() {
        let circle = ZoneShape.circle(center: p(10.15, 10.15), radius: 500)
        #expect(circle.contains(p(10.15 + 449.0 / 111_195, 10.15)))
        #expect(!circle.contains(p(10.15 + 451.0 / 111_195 * 1.12, 10.15)))
        #expect(abs(circle.distanceToBoundary(p(10.15, 10.15)) - 500) < 0.001)
    }

    @Test func distancesToTheBoundary() {
        #expect(abs(original.distanceToBoundary(p(10.2001, 10.15)) - 11.12) < 0.05)
        #expect(abs(original.distanceToBoundary(p(10.15, 10.15)) - 0.05 * 111_195 * cos(10.15 * .pi / 180)) < 1)
    }

    @Test func aBowTieCrossesItself() {
        #expect(ZoneShape.isSelfCrossing([p(0, 0), p(1, 1), p(1, 0), p(0, 1)]))
        #expect(!ZoneShape.isSelfCrossing([p(0, 0), p(0, 1), p(1, 1), p(1, 0)]))
    }
}

/// The detector on the synthetic drive across the original geofence, against events worked
/// out independently from the drive's ground truth with the original rule
/// (10.1 <= lat <= 10.2 && 10.1 <= lng <= 10.2).
@Suite struct GeofenceDetectorTests {
    struct Truth: Decodable { let time: String; let valid: Bool; let lat: Double?; let lon: Double? }

    static func truth() throws -> [Truth] {
        try String(contentsOf: SharedTestData.tracks.appendingPathComponent("seed-drive.truth.jsonl"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).map { try JSONDecoder().decode(Truth.self, from: Data($0.utf8)) }
    }

    static func driveEvents(hysteresis: Double) throws -> [GeofenceEvent] {
        let fixes = NMEADecoder.decode(try Data(contentsOf: SharedTestData.tracks.appendingPathComponent("seed-drive.nmea"))).fixes
        var detector = GeofenceDetector(zones: [Zone(name: "depot", shape: .box(minLatitude: 10.1, maxLatitude: 10.2,
                                                                                 minLongitude: 10.1, maxLongitude: 10.2),
                                                     hysteresis: hysteresis)])
        return fixes.flatMap { detector.evaluate($0) }
    }

    /// "In"/"Out" at each time the state changes, from the ground truth; with `hysteresis`, a
    /// change waits for a point that far on the other side (metres, flat-earth).
    static func expected(hysteresis: Double) throws -> [(String, String)] {
        var state: Bool?
        var out: [(String, String)] = []
        for t in try truth() where t.valid {
            let lat = t.lat!, lon = t.lon!
            let inside = (10.1...10.2).contains(lat) && (10.1...10.2).contains(lon)
            let m = 111_195.0, k = cos(lat * .pi / 180)
            let distance: Double
            if inside {
                distance = min(lat - 10.1, 10.2 - lat) * m < min(lon - 10.1, 10.2 - lon) * m * k
                    ? min(lat - 10.1, 10.2 - lat) * m : min(lon - 10.1, 10.2 - lon) * m * k
            } else {
                let dy = max(0, lat - 10.2, 10.1 - lat) * m, dx = max(0, lon - 10.2, 10.1 - lon) * m * k
                distance = (dx * dx + dy * dy).squareRoot()
            }
            if state == nil || (inside != state! && distance >= hysteresis) {
                state = inside
                out.append((t.time, inside ? "InBoundary" : "OutOfBoundary"))
            }
        }
        return out
    }

    static func entries(_ events: [GeofenceEvent]) -> [(String, String)] {
        events.filter { $0.kind == .onEnter }.map { ($0.time.iso8601, $0.state.rawValue) }
    }

    @Test func everyCrossingOfTheOriginalBoxIncludingTheFlappingNorthernEdge() throws {
        let events = try Self.driveEvents(hysteresis: 0)
        let expected = try Self.expected(hysteresis: 0)
        #expect(expected.count == 149)
        #expect(Self.entries(events).map { "\($0.0) \($0.1)" } == expected.map { "\($0.0) \($0.1)" })
        // Each change is OnExit of the old state, then OnEnter of the new one; the first has no previous.
        #expect(events.first == GeofenceEvent(zone: "depot", kind: .onEnter, state: .inBoundary,
                                              position: GeoPoint(latitude: 10.150023333333333, longitude: 10.150026666666667),
                                              time: UTCTimestamp(iso8601: "2020-03-02T08:03:20.000Z")!))
        #expect(events.count == 1 + 148 * 2)
        for i in stride(from: 1, to: events.count, by: 2) {
            #expect(events[i].kind == .onExit && events[i + 1].kind == .onEnter)
            #expect(events[i].state == events[i + 1].previous && events[i].time == events[i + 1].time)
        }
        let northernEdge = events.filter { $0.time.iso8601 >= "2020-03-02T08:37:00" && $0.time.iso8601 < "2020-03-02T08:42:00" }
        print("geofence: \(expected.count) state entries; \(northernEdge.count / 2) transitions along the northern edge (08:37-08:41)")
    }

    @Test func tenMetresOfHysteresisEndTheFlapping() throws {
        let events = try Self.driveEvents(hysteresis: 10)
        let expected = try Self.expected(hysteresis: 10)
        #expect(Self.entries(events).map { "\($0.0) \($0.1)" } == expected.map { "\($0.0) \($0.1)" })
        #expect(expected.count == 3, "in, out across the eastern edge, back in across the southern edge: \(expected)")
        #expect(!events.contains { $0.time.iso8601 >= "2020-03-02T08:37:00" && $0.time.iso8601 < "2020-03-02T08:42:00" })
    }

    @Test func noFixOldFixesAndBadHDOPChangeNothing() {
        let zone = Zone(name: "z", shape: .box(minLatitude: 0, maxLatitude: 1, minLongitude: 0, maxLongitude: 1), maxHDOP: 2)
        var detector = GeofenceDetector(zones: [zone])
        func fix(_ s: Int64, _ lat: Double, hdop: Double = 1) -> Fix {
            Fix(time: UTCTimestamp(millisecondsSinceEpoch: s * 1000), mode: .threeD, latitude: lat, longitude: 0.5, hdop: hdop)
        }
        #expect(detector.evaluate(Fix(time: UTCTimestamp(millisecondsSinceEpoch: 0), mode: .noFix)).isEmpty)
        #expect(detector.evaluate(fix(10, 0.5)).map(\.kind) == [.onEnter])
        #expect(detector.evaluate(fix(9, 5)).isEmpty, "older than the last fix")
        #expect(detector.evaluate(fix(10, 5)).isEmpty, "not later than the last fix")
        #expect(detector.evaluate(fix(11, 5, hdop: 9)).isEmpty, "HDOP worse than max_hdop")
        #expect(detector.evaluate(fix(12, 5)).map(\.kind) == [.onExit, .onEnter])
    }

    @Test func minConsecutiveAndEveryFix() {
        let zone = Zone(name: "z", shape: .box(minLatitude: 0, maxLatitude: 1, minLongitude: 0, maxLongitude: 1),
                        minConsecutive: 3, notify: .everyFix)
        var detector = GeofenceDetector(zones: [zone])
        func fix(_ s: Int64, _ lat: Double) -> Fix {
            Fix(time: UTCTimestamp(millisecondsSinceEpoch: s * 1000), mode: .threeD, latitude: lat, longitude: 0.5)
        }
        #expect(detector.evaluate(fix(1, 0.5)).map(\.kind) == [.onEnter, .onInput])
        #expect(detector.evaluate(fix(2, 5)).map(\.kind) == [.onInput])
        #expect(detector.evaluate(fix(3, 5)).map(\.kind) == [.onInput])
        #expect(detector.evaluate(fix(4, 0.5)).map(\.kind) == [.onInput], "the streak is broken")
        _ = detector.evaluate(fix(5, 5))
        _ = detector.evaluate(fix(6, 5))
        let third = detector.evaluate(fix(7, 5))
        #expect(third.map(\.kind) == [.onExit, .onEnter, .onInput])
        #expect(third[2].state == .outOfBoundary)
    }

    @Test func statesSurviveARestartUnlessTheZoneChanged() {
        let zone = Zone(name: "z", shape: .box(minLatitude: 0, maxLatitude: 1, minLongitude: 0, maxLongitude: 1))
        var detector = GeofenceDetector(zones: [zone])
        _ = detector.evaluate(Fix(time: UTCTimestamp(millisecondsSinceEpoch: 1000), mode: .threeD, latitude: 0.5, longitude: 0.5))
        var restarted = GeofenceDetector(zones: [zone], restored: detector.saved)
        #expect(restarted.evaluate(Fix(time: UTCTimestamp(millisecondsSinceEpoch: 2000), mode: .threeD, latitude: 0.5, longitude: 0.5)).isEmpty,
                "no duplicate OnEnter after a reboot")
        var moved = zone
        moved.shape = .box(minLatitude: 0, maxLatitude: 2, minLongitude: 0, maxLongitude: 1)
        var redefined = GeofenceDetector(zones: [moved], restored: detector.saved)
        #expect(redefined.evaluate(Fix(time: UTCTimestamp(millisecondsSinceEpoch: 2000), mode: .threeD, latitude: 0.5, longitude: 0.5))
                .map(\.kind) == [.onEnter], "a changed zone starts afresh")
    }

    @Test func theEventPayload() {
        let event = GeofenceEvent(zone: "depot", kind: .onEnter, state: .outOfBoundary, previous: .inBoundary,
                                  position: GeoPoint(latitude: 10.2001, longitude: 10.15), time: UTCTimestamp(iso8601: "2020-03-02T08:15:03Z")!)
        #expect(event.json(deviceID: "1") == #"{"deviceId":"1","zone":"depot","event":"OnEnter","state":"OutOfBoundary","previous":"InBoundary","lat":10.2001,"lng":10.15,"time":"2020-03-02T08:15:03.000Z"}"#)
    }
}

@Suite struct BoundingBoxTests {
    /// The prefilter may only ever say "outside" for points the exact test also puts outside.
    @Test func theBoundingBoxNeverExcludesAnInsidePoint() {
        var random = SeededGenerator(seed: 11)
        let shapes: [ZoneShape] = [
            .box(minLatitude: 10.1, maxLatitude: 10.2, minLongitude: 10.1, maxLongitude: 10.2),
            .circle(center: GeoPoint(latitude: 60, longitude: 25), radius: 5000),
            .polygons([[GeoPoint(latitude: 0, longitude: 0), GeoPoint(latitude: 0.5, longitude: 1), GeoPoint(latitude: 1, longitude: 0.2)]]),
        ]
        for shape in shapes {
            let box = shape.boundingBox!
            for _ in 0..<20_000 {
                let p = GeoPoint(latitude: box.minLatitude + Double.random(in: -0.5...1.5, using: &random) * (box.maxLatitude - box.minLatitude),
                                 longitude: box.minLongitude + Double.random(in: -0.5...1.5, using: &random) * (box.maxLongitude - box.minLongitude))
                let outsideBox = p.latitude < box.minLatitude || p.latitude > box.maxLatitude
                    || p.longitude < box.minLongitude || p.longitude > box.maxLongitude
                if outsideBox { #expect(!shape.contains(p)) }
            }
        }
        #expect(ZoneShape.box(minLatitude: 0, maxLatitude: 1, minLongitude: 179, maxLongitude: -179).boundingBox == nil)
    }
}
