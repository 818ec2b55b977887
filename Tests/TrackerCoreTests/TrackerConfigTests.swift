import Foundation
import Testing
import TestSupport
@testable import TrackerCore

@Suite struct TrackerConfigTests {
    func errors(_ text: String) -> [ConfigError] {
        do {
            _ = try TrackerConfig.parse(text, file: "t.toml")
            return []
        } catch {
            return error.errors
        }
    }

    @Test func anEmptyFileGivesTheDefaults() throws {
        let config = try TrackerConfig.parse("", file: "t.toml")
        #expect(config == TrackerConfig())
        #expect(config.gps.source == .gpsd && config.gps.gpsdPort == 2947 && config.gps.baud == 9600)
        #expect(config.gps.staleAfter == .seconds(5))
    }

    @Test func readsEveryKey() throws {
        let config = try TrackerConfig.parse("""
        [device]
        id = "truck-7"
        [gps]
        source = "serial"
        gpsd_host = "10.0.0.2"
        gpsd_port = 2948
        device = "/dev/ttyACM0"
        baud = 115200
        replay_file = "/tmp/x.nmea"
        replay_speed = 4
        stale_after_s = 2.5
        """, file: "t.toml")
        #expect(config.device.id == "truck-7")
        #expect(config.gps.source == .serial)
        #expect(config.gps.gpsdHost == "10.0.0.2" && config.gps.gpsdPort == 2948)
        #expect(config.gps.device == "/dev/ttyACM0" && config.gps.baud == 115200)
        #expect(config.gps.replayFile == "/tmp/x.nmea" && config.gps.replaySpeed == 4)
        #expect(config.gps.staleAfter == .milliseconds(2500))
    }

    @Test func everyErrorNamesFileLineAndKey() {
        let found = errors("""
        [gps]
        source = "usb"
        baud = 1234
        gpsd_port = "2947"
        stale_after_s = 0
        colour = "red"
        [device]
        id = "bad id!"
        [cloud]
        endpoint = "x"
        """)
        #expect(found.map(\.description) == [
            "t.toml:2: gps.source: \"usb\" is not a source; use \"gpsd\", \"serial\" or \"replay\"",
            "t.toml:3: gps.baud: 1234 is not a supported baud rate (4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)",
            "t.toml:4: gps.gpsd_port: expected an integer, found a string",
            "t.toml:5: gps.stale_after_s: 0.0 is out of range (0.1 to 86400.0)",
            "t.toml:6: gps.colour: unknown key; [gps] takes source, gpsd_host, gpsd_port, device, baud, replay_file, replay_speed, stale_after_s, min_interval_s, min_distance_m",
            "t.toml:8: device.id: \"bad id!\" must be 1 to 128 characters of A-Z a-z 0-9 - _ . :",
            "t.toml:9: [cloud]: unknown section; known sections: [device], [gps], [mqtt], [payload], [queue], [store], [provisioning], [geofence], [report], [jobs], [credentials]",
        ])
    }

    @Test func readsThePublishingSections() throws {
        let config = try TrackerConfig.parse("""
        [gps]
        min_interval_s = 10
        min_distance_m = 50.5
        [mqtt]
        endpoint = "localhost"
        port = 18883
        ca_file = "/tmp/ca.pem"
        client_id = "truck-7"
        keepalive_s = 30
        protocol = "5"
        alpn = "x-amzn-mqtt-ca"
        [payload]
        format = "extended"
        [queue]
        durability = "every-message"
        max_messages = 1000
        max_inflight = 100
        [store]
        dir = "/tmp/state"
        """, file: "t.toml")
        #expect(config.report.mode == .adaptive && config.report.movingInterval == .seconds(10) && config.report.minDistance == 50.5,
                "the deprecated [gps] keys still work")
        #expect(config.warnings.map(\.description).first?.contains("is deprecated; it now means [report] moving_interval_s = 10") == true,
                "\(config.warnings)")
        #expect(config.mqtt.endpoint == "localhost" && config.mqtt.port == 18883 && config.mqtt.caFile == "/tmp/ca.pem")
        #expect(config.mqtt.clientID == "truck-7" && config.mqtt.keepalive == 30 && config.mqtt.protocolVersion == .v5)
        #expect(config.mqtt.alpn == "x-amzn-mqtt-ca" && config.payload.format == .extended)
        #expect(config.queue.durability == .everyMessage && config.queue.maxMessages == 1000 && config.queue.maxInflight == 100)
        #expect(config.store.directory == "/tmp/state")
    }

    @Test func publishingErrorsAreLocated() {
        let found = errors("""
        [mqtt]
        keepalive_s = 10
        client_id = "\(String(repeating: "x", count: 129))"
        topic = "gps/#"
        protocol = "3"
        [queue]
        max_inflight = 101
        durability = "sometimes"
        """)
        #expect(found.map { "\($0.line) \($0.key ?? "")" } == ["2 mqtt.keepalive_s", "3 mqtt.client_id", "4 mqtt.topic",
                                                              "5 mqtt.protocol", "7 queue.max_inflight", "8 queue.durability"])
    }

    @Test func provisioningIsOnlyOnWithItsSection() throws {
        #expect(try TrackerConfig.parse("", file: "t.toml").provisioning == nil)
        let config = try TrackerConfig.parse("""
        [provisioning]
        method = "create-keys"
        template = "fleet-template_1"
        parameters = { SerialNumber = "{serial}", Mac = "{mac}", Site = "depot" }
        claim_cert = "/etc/trackerd/claim/c.pem"
        forget_claim = true
        """, file: "t.toml")
        let provisioning = try #require(config.provisioning)
        #expect(provisioning.method == .createKeys && provisioning.template == "fleet-template_1" && provisioning.forgetClaim)
        #expect(provisioning.claimCert == "/etc/trackerd/claim/c.pem" && provisioning.stepTimeout == .seconds(10))
        #expect(provisioning.resolvedParameters(serial: "10000000abcd", mac: "b8:27:eb:00:00:01")
                == ["SerialNumber": "10000000abcd", "Mac": "b8:27:eb:00:00:01", "Site": "depot"])
        #expect(try TrackerConfig.parse("[provisioning]\n", file: "t.toml").provisioning == ProvisioningConfig())
        let bad = errors("[provisioning]\nmethod = \"magic\"\ntemplate = \"a b\"\nparameters = { N = 1 }\nforget_claim = \"yes\"\n")
        #expect(bad.map { "\($0.line) \($0.key ?? "")" } == ["2 provisioning.method", "3 provisioning.template",
                                                             "4 provisioning.parameters.N", "5 provisioning.forget_claim"])
        // The name before forget_claim still works, with a warning that says what to write.
        let old = try TrackerConfig.parse("[provisioning]\ndelete_claim = true\n", file: "t.toml")
        #expect(old.provisioning?.forgetClaim == true)
        #expect(old.warnings.map { "\($0.line) \($0.key ?? "") \($0.message)" } == ["2 provisioning.delete_claim is deprecated: write forget_claim instead"])
    }

    @Test func geofencesOfEveryShape() throws {
        let config = try TrackerConfig.parse("""
        [[geofence]]
        name = "depot"
        box = { min_lat = 10.1, max_lat = 10.2, min_lng = 10.1, max_lng = 10.2 }
        hysteresis_m = 10
        [[geofence]]
        name = "yard.2"
        polygon = [[10.1, 10.1], [10.1, 10.2], [10.2, 10.2]]
        notify = "every-fix"
        [[geofence]]
        name = "gate"
        circle = { lat = 10.15, lng = 10.15, radius_m = 500.0 }
        min_consecutive = 3
        max_hdop = 2.5
        [[geofence]]
        name = "city"
        geojson = "/etc/trackerd/zones/city.geojson"
        """, file: "t.toml")
        #expect(config.geofences.map(\.name) == ["depot", "yard.2", "gate", "city"])
        #expect(config.geofences[0].zone() == Zone(name: "depot", shape: .box(minLatitude: 10.1, maxLatitude: 10.2, minLongitude: 10.1, maxLongitude: 10.2), hysteresis: 10))
        #expect(config.geofences[1].notify == .everyFix)
        #expect(config.geofences[2].minConsecutive == 3 && config.geofences[2].maxHDOP == 2.5)
        #expect(config.geofences[3].shape == .geojson(path: "/etc/trackerd/zones/city.geojson"))
        #expect(config.geofences[3].zone() == nil, "a GeoJSON zone needs its file")
    }

    @Test func geofenceErrorsNameFileLineAndKey() {
        let found = errors("""
        [[geofence]]
        name = "bowtie"
        polygon = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
        [[geofence]]
        name = "north"
        box = { min_lat = 95.0, max_lat = 96.0, min_lng = 0.0, max_lng = 1.0 }
        [[geofence]]
        name = "flipped"
        box = { min_lat = 2.0, max_lat = 1.0, min_lng = 0.0, max_lng = 1.0 }
        [[geofence]]
        name = "dot"
        circle = { lat = 0.0, lng = 0.0, radius_m = 0.0 }
        [[geofence]]
        name = "bowtie"
        circle = { lat = 0.0, lng = 0.0, radius_m = 10.0 }
        [[geofence]]
        name = "two"
        box = { min_lat = 0.0, max_lat = 1.0, min_lng = 0.0, max_lng = 1.0 }
        circle = { lat = 0.0, lng = 0.0, radius_m = 10.0 }
        """)
        #expect(found.map(\.description) == [
            "t.toml:3: geofence[0].polygon: the polygon crosses itself",
            "t.toml:6: geofence[1].box: a latitude is outside ±90",
            "t.toml:9: geofence[2].box: min_lat 2.0 > max_lat 1.0",
            "t.toml:12: geofence[3].circle: radius_m must be greater than 0",
            "t.toml:14: geofence[4].name: \"bowtie\" is already the name of the zone on line 1",
            "t.toml:16: geofence[5]: has box and circle; exactly one shape is allowed",
        ])
    }

    @Test func geoJSONPolygonsAreLngLat() throws {
        let polygons = try GeoJSON.polygons(from: Array(#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[10.1,10.1],[10.2,10.1],[10.2,10.2],[10.1,10.1]]]}}"#.utf8))
        #expect(polygons == [[GeoPoint(latitude: 10.1, longitude: 10.1), GeoPoint(latitude: 10.1, longitude: 10.2), GeoPoint(latitude: 10.2, longitude: 10.2)]])
        let multi = try GeoJSON.polygons(from: Array(#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1]]],[[[5,5],[6,5],[6,6]]]]}"#.utf8))
        #expect(multi.count == 2)
        #expect(throws: GeoJSON.Invalid(reason: "a Point: only Polygon and MultiPolygon describe an area")) {
            try GeoJSON.polygons(from: Array(#"{"type":"Point","coordinates":[1,2]}"#.utf8))
        }
    }

    @Test func replayNeedsAFile() {
        let found = errors("[gps]\n\nsource = \"replay\"\n")
        #expect(found.map(\.description) == ["t.toml:3: gps.replay_file: is required when gps.source = \"replay\""])
    }

    @Test func outOfRangeAndWrongTypes() {
        #expect(errors("[gps]\ngpsd_port = 0").first?.description == "t.toml:2: gps.gpsd_port: 0 is out of range (1 to 65535)")
        #expect(errors("[gps]\ndevice = \"ttyUSB0\"").first?.key == "gps.device")
        #expect(errors("gps = 3").first?.description == "t.toml:1: gps: must be a [gps] section, found an integer")
        #expect(errors("[gps]\nreplay_speed = true").first?.message == "expected a number, found a boolean")
    }

    @Test func aSyntaxErrorHasItsLine() {
        #expect(errors("[gps]\nbaud = = 9600").map(\.description) == ["t.toml:2: expected a value, found '='"])
    }

    /// The example file in the repository documents every key and is itself valid.
    @Test func theExampleFileIsValidAndDocumentsEveryKey() throws {
        let url = SharedTestData.repositoryRoot.appendingPathComponent("etc/trackerd.toml")
        let text = try String(contentsOf: url, encoding: .utf8)
        _ = try TrackerConfig.parse(text, file: url.path)
        var section = ""
        var documented: Set<String> = []
        for raw in text.split(separator: "\n") {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("# ") { line = String(line.dropFirst(2)) }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = line.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                continue
            }
            if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = line[..<eq].trimmingCharacters(in: .whitespaces)
                if !key.contains(" ") { documented.insert("\(section).\(key)") }
            }
        }
        #expect(Set(TrackerConfig.knownKeys).subtracting(documented).isEmpty,
                "undocumented: \(Set(TrackerConfig.knownKeys).subtracting(documented).sorted())")
    }
}

extension TrackerConfigTests {
    @Test func theReportSectionIsRead() throws {
        let config = try TrackerConfig.parse("""
        [report]
        policy = "adaptive"
        moving_interval_s = 30
        min_distance_m = 500
        heading_change_deg = 25
        stop_speed_mps = 1.5
        stop_after_s = 90
        stopped_interval_s = 3600
        overspeed_mps = 27.8
        overspeed_after_s = 5
        [[geofence]]
        name = "school"
        circle = { lat = 10.15, lng = 10.15, radius_m = 300 }
        max_speed_mps = 8.3
        """, file: "t.toml")
        var expected = ReportPolicy()
        expected.movingInterval = .seconds(30)
        expected.minDistance = 500
        expected.headingChange = 25
        expected.stopSpeed = 1.5
        expected.stopAfter = .seconds(90)
        expected.stoppedInterval = .seconds(3600)
        expected.overspeed = 27.8
        expected.overspeedAfter = .seconds(5)
        #expect(config.report == expected && config.warnings.isEmpty)
        #expect(config.geofences.first?.zone()?.maxSpeed == 8.3)
    }

    /// The old keys beside a [report] section: refused, saying where to write them.
    @Test func theOldKeysBesideAReportSectionAreRefused() {
        #expect(throws: ConfigErrors.self) {
            try TrackerConfig.parse("[gps]\nmin_interval_s = 5\n[report]\npolicy = \"every-fix\"\n", file: "t.toml")
        }
        let both = try? TrackerConfig.parse("[gps]\nmin_interval_s = 0\n", file: "t.toml")
        #expect(both?.report.mode == .everyFix && both?.warnings.count == 1, "0 meant every fix")
    }
}

