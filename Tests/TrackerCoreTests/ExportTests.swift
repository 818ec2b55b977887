import Testing
@testable import TrackerCore

/// Reading trackerd's payloads back, and the GPX and GeoJSON made from them.
@Suite struct ExportTests {
    let fix = Fix(time: UTCTimestamp(iso8601: "2020-03-02T08:03:20.200Z"), mode: .threeD, latitude: 10.1234567, longitude: -170.7654321,
                  altitudeMSL: 42.5, satellitesUsed: 9, hdop: 0.9, speed: 24.9, track: 90.5)

    func read(_ text: String) -> PublishedMessage? {
        JSONValue.parse(Array(text.utf8)).flatMap(PublishedMessage.init(payload:))
    }

    @Test func fixesReadBackFromBothPayloadFormats() throws {
        let extended = try #require(FixPayload.encode(fix, deviceID: "d1", format: .extended, odometer: 12))
        #expect(read(extended) == .fixes(deviceID: "d1", [fix]))
        // gpsInput has position and time only; the mode it implies is 2D.
        let original = try #require(FixPayload.encode(fix, deviceID: "d1", format: .gpsInput))
        #expect(read(original) == .fixes(deviceID: "d1", [Fix(time: fix.time, mode: .twoD, latitude: fix.latitude, longitude: fix.longitude)]))
    }

    @Test func aBacklogBatchIsItsFixesInOrder() throws {
        var later = fix
        later.time = fix.time?.adding(milliseconds: 1000)
        let batch = "{\"fixes\":[" + [fix, later].compactMap { FixPayload.encode($0, deviceID: "d1", format: .extended) }.joined(separator: ",") + "]}"
        #expect(read(batch) == .fixes(deviceID: "d1", [fix, later]))
        #expect(read(#"{"fixes":[]}"#) == nil)
    }

    @Test func eventsReadBackAsTheyWereMade() {
        let time = UTCTimestamp(iso8601: "2020-03-02T08:06:59.000Z")!
        let geofence = GeofenceEvent(zone: "depot \"north\"", kind: .onEnter, state: .outOfBoundary, previous: .inBoundary,
                                     position: GeoPoint(latitude: 10.2, longitude: 10.15), time: time)
        #expect(read(geofence.json(deviceID: "d1")) == .geofence(deviceID: "d1", geofence))
        let first = GeofenceEvent(zone: "yard", kind: .onEnter, state: .inBoundary, position: geofence.position, time: time)
        #expect(read(first.json(deviceID: "d1")) == .geofence(deviceID: "d1", first))
        let tripEnd = MotionEvent(kind: .tripEnd, time: time, position: geofence.position, distance: 1234.5, duration: 300, maxSpeed: 16.25)
        #expect(read(tripEnd.json(deviceID: "d1")) == .motion(deviceID: "d1", tripEnd))
        let overspeed = MotionEvent(kind: .overspeedStart, time: time, position: geofence.position, maxSpeed: 20, speed: 25, zone: "south-yard")
        #expect(read(overspeed.json(deviceID: "d1")) == .motion(deviceID: "d1", overspeed))
    }

    @Test func presenceAndStrangersAreTold() {
        #expect(read(#"{"state":"online","version":"0.1.0","certificateId":"ab"}"#) == .presence(online: true, version: "0.1.0"))
        #expect(read(#"{"state":"offline"}"#) == .presence(online: false, version: nil))
        for stranger in [#"{"state":"asleep"}"#, "[1,2]", #"{"gpsLat":91,"gpsLng":0,"time":"2020-03-02T08:06:59Z"}"#,
                         #"{"gpsLat":10,"gpsLng":10}"#, #"{"event":"OnEnter","zone":"z","lat":1,"lng":2}"#,
                         #"{"event":"Teleported","lat":1,"lng":2,"time":"2020-03-02T08:06:59Z"}"#] {
            #expect(read(stranger) == nil, "\(stranger)")
        }
    }

    @Test func gpsDateTimeReadsBackWhatPayloadsWrite() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let time = UTCTimestamp(millisecondsSinceEpoch: Int64.random(in: 0..<4_102_444_800_000, using: &generator))
            #expect(UTCTimestamp(gpsDateTime: FixPayload.gpsDateTime(time)) == time)
        }
        #expect(UTCTimestamp(gpsDateTime: "03/02/2020  08:03:20")?.iso8601 == "2020-03-02T08:03:20.000Z")
        #expect(UTCTimestamp(gpsDateTime: "03/02/2020  08:03:20.5")?.iso8601 == "2020-03-02T08:03:20.500Z")
        for bad in ["03/02/2020 08:03:20.000", "13/02/2020  08:03:20.000", "03/02/2020  24:03:20.000", "03/02/2020  08:03:20.",
                    "03/02/2020  08:03:20.0000", "2020-03-02T08:03:20Z"] {
            #expect(UTCTimestamp(gpsDateTime: bad) == nil, "\(bad)")
        }
    }

    @Test func gpxSegmentsEndWhereTheFixWasLost() {
        var document = GPXDocument(name: "a & b <drive>")
        let lost = Fix(time: fix.time, mode: .noFix)
        for item in [lost, fix, fix, lost, lost, fix] { document.append(item) }
        document.append(lost)
        #expect(document.segments.map(\.count) == [2, 1, 0])
        let xml = document.xml
        #expect(xml.components(separatedBy: "<trkseg>").count == 3)
        #expect(xml.contains("<name>a &amp; b &lt;drive&gt;</name>"))
        #expect(xml.contains(#"<trkpt lat="10.1234567" lon="-170.7654321"><ele>42.5</ele><time>2020-03-02T08:03:20.200Z</time><fix>3d</fix><sat>9</sat><hdop>0.9</hdop><extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>24.9</gpxtpx:speed><gpxtpx:course>90.5</gpxtpx:course></gpxtpx:TrackPointExtension></extensions></trkpt>"#))
        #expect(GPXDocument.escaped("a\u{1}b\"'\t") == "ab&quot;&apos;\t")
        #expect(!GPXDocument().xml.contains("<trk>"))
    }

    func features(_ collection: DriveFeatureCollection) -> [[String: JSONValue]] {
        guard case .array(let features)? = collection.geoJSON["features"] else { return [] }
        return features.compactMap(\.object)
    }

    @Test func aTripIsALineFromItsStartToItsEnd() {
        var map = DriveFeatureCollection()
        let start = MotionEvent(kind: .tripStart, time: fix.time!, position: GeoPoint(latitude: 1, longitude: 2))
        var fixes: [Fix] = []
        for i in 0..<3 {
            var moving = fix
            moving.time = fix.time!.adding(milliseconds: Int64(i) * 1000)
            (moving.latitude, moving.longitude) = (1 + Double(i) / 100, 2)
            fixes.append(moving)
        }
        map.add(.fixes(deviceID: nil, [fixes[0]]))
        map.add(.motion(deviceID: nil, start))
        map.add(.fixes(deviceID: nil, Array(fixes[1...])))
        // Under way at the end: a line with a start and no end.
        let open = features(map).filter { $0["properties"]?["kind"] == .string("trip") }
        #expect(open.count == 1 && open[0]["properties"]?["end"] == nil)
        let end = MotionEvent(kind: .tripEnd, time: fixes[2].time!.adding(milliseconds: 5000), position: GeoPoint(latitude: 1.03, longitude: 2),
                              distance: 3300, duration: 7, maxSpeed: 24.9)
        map.add(.motion(deviceID: nil, end))
        let trips = features(map).filter { $0["properties"]?["kind"] == .string("trip") }
        #expect(trips.count == 1)
        #expect(trips[0]["geometry"] == .object(["type": .string("LineString"), "coordinates": .array(
            [[2, 1], [2, 1.01], [2, 1.02], [2, 1.03]].map { .array($0.map(JSONValue.number)) })]))
        #expect(trips[0]["properties"]?["distance_m"] == .number(3300))
        #expect(features(map).filter { $0["properties"]?["kind"] == .string("fix") }.count == 3)
        #expect(features(map).filter { $0["properties"]?["kind"] == .string("trip-event") }.count == 2)
    }

    @Test func zonesAreOutlinedAsGeoJSONWantsThem() throws {
        let across = DriveFeatureCollection.feature(zone: Zone(name: "dateline", shape: .box(minLatitude: -1, maxLatitude: 1,
                                                                                                minLongitude: 179, maxLongitude: -179)))
        #expect(across["geometry"]?["type"] == .string("MultiPolygon"))
        let center = GeoPoint(latitude: 60, longitude: 10)
        let circle = DriveFeatureCollection.feature(zone: Zone(name: "c", shape: .circle(center: center, radius: 500)))
        guard case .array(let rings)? = circle["geometry"]?["coordinates"], case .array(let ring) = rings[0] else {
            Issue.record("no ring")
            return
        }
        #expect(ring.count == 73 && ring.first == ring.last)
        for vertex in ring {
            guard case .array(let pair) = vertex, case .number(let lng) = pair[0], case .number(let lat) = pair[1] else { continue }
            let distance = GreatCircle.distance(latitude1: center.latitude, longitude1: center.longitude, latitude2: lat, longitude2: lng)
            #expect(abs(distance - 500) < 0.05)
            #expect(Zone(name: "c", shape: .circle(center: center, radius: 500.05)).shape.contains(GeoPoint(latitude: lat, longitude: lng)))
        }
    }
}
