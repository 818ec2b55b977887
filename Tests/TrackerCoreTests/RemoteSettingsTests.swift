import Testing
@testable import TrackerCore

/// The shadow's desired state, validated as the configuration file is: same checks, same
/// words, whole or not at all.
@Suite struct RemoteSettingsTests {
    func desired(_ text: String) -> JSONValue { JSONValue.parse(Array(text.utf8)) ?? .null }

    @Test func aValidDocumentAppliesOverTheFile() throws {
        let settings = try RemoteSettings.validate(desired(
            #"{"report":{"moving_interval_s":30,"heading_change_deg":20},"log_level":"debug","alerts_topic":"fleet/alerts"}"#)).get()
        var file = TrackerConfig()
        file.report.stopSpeed = 2
        file.mqtt.endpoint = "broker.example"
        let config = settings.applied(to: file)
        #expect(config.report.movingInterval == .seconds(30) && config.report.headingChange == 20)
        #expect(config.report.stopSpeed == 2, "each of the shadow's [report] keys changes that key of the file's, no other")
        #expect(config.mqtt.alertsTopic == "fleet/alerts" && config.mqtt.endpoint == "broker.example")
        #expect(settings.logLevel == "debug")
    }

    /// Every problem, with check-config's words, and nothing applied.
    @Test func anInvalidDocumentIsRefusedWhole() {
        let result = RemoteSettings.validate(desired(
            #"{"report":{"moving_interval_s":0,"policy":"sometimes"},"log_level":"loud","status_topic":"a/#","endpoint":"x"}"#))
        guard case .failure(let invalid) = result else { Issue.record("accepted"); return }
        #expect(invalid.problems.map(\.path).sorted() == ["endpoint", "log_level", "report.moving_interval_s", "report.policy", "status_topic"])
        #expect(invalid.problems.contains(RemoteSettings.Problem(path: "report.moving_interval_s", problem: "0.0 is out of range (1.0 to 86400.0)")))
        #expect(invalid.problems.first { $0.path == "endpoint" }?.problem.hasPrefix("unknown key; the shadow may set report") == true)
        #expect(invalid.problems.first?.json["path"] != nil)
    }

    static let square = #"{"type":"Polygon","coordinates":[[[10.1,10.1],[10.2,10.1],[10.2,10.2],[10.1,10.2],[10.1,10.1]]]}"#

    /// Zones as a GeoJSON FeatureCollection: geometry for the shape, properties as a [[geofence]].
    @Test func geofencesArriveAsAFeatureCollection() throws {
        let settings = try RemoteSettings.validate(desired("""
        {"geofences":{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":\(Self.square),"properties":{"name":"depot","hysteresis_m":10,"max_speed_mps":8.3}}]}}
        """)).get()
        let zone = try #require(settings.geofences?.first?.zone())
        #expect(zone.name == "depot" && zone.hysteresis == 10 && zone.maxSpeed == 8.3)
        #expect(zone.shape == .polygons([[GeoPoint(latitude: 10.1, longitude: 10.1), GeoPoint(latitude: 10.1, longitude: 10.2),
                                          GeoPoint(latitude: 10.2, longitude: 10.2), GeoPoint(latitude: 10.2, longitude: 10.1)]]),
                "\(zone.shape)")
        var file = TrackerConfig()
        file.geofences = []
        #expect(settings.applied(to: file).geofences.map(\.name) == ["depot"])
    }

    @Test func badZonesAreNamedByTheirPath() {
        let result = RemoteSettings.validate(desired("""
        {"geofences":{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":\(Self.square),"properties":{"hysteresis_m":-1}},
          {"type":"Feature","geometry":{"type":"Point","coordinates":[10,10]},"properties":{"name":"dot"}},
          {"type":"Feature","geometry":\(Self.square),"properties":{"name":"a","notify":"often"}},
          {"type":"Feature","geometry":\(Self.square),"properties":{"name":"b"}},
          {"type":"Feature","geometry":\(Self.square),"properties":{"name":"b"}}]}}
        """))
        guard case .failure(let invalid) = result else { Issue.record("accepted"); return }
        let paths = Set(invalid.problems.map(\.path))
        #expect(paths == ["geofences.features[0].properties.name", "geofences.features[0].properties.hysteresis_m",
                          "geofences.features[1].geometry", "geofences.features[2].properties.notify",
                          "geofences.features[4].properties.name"], "\(invalid.problems)")
    }

    /// A zone set over AWS's 8 KB document limit is refused with that reason.
    @Test func aZoneSetOver8KBIsRefused() {
        let feature = #"{"type":"Feature","geometry":\#(Self.square),"properties":{"name":"z"}}"#
        let many = (0..<80).map { feature.replacingOccurrences(of: #""name":"z""#, with: #""name":"z\#($0)""#) }.joined(separator: ",")
        let result = RemoteSettings.validate(desired(#"{"geofences":{"type":"FeatureCollection","features":[\#(many)]}}"#))
        guard case .failure(let invalid) = result else { Issue.record("accepted"); return }
        #expect(invalid.problems.first?.problem.contains("over AWS IoT Core's 8 KB limit") == true)
    }
}

