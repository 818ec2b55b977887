import Foundation
import Testing
@testable import TrackerCore

/// The engine following its `trackerd` shadow: what it asks for on connecting, and what an
/// applied desired state changes without a restart (zones, reporting, topics, log level).
@Suite struct ShadowEngineTests {
    typealias World = TrackerEngineTests.World
    static let prefix = "$aws/things/tracker-1/shadow/name/trackerd/"
    static let square = #"{"type":"Polygon","coordinates":[[[10.1,10.1],[10.2,10.1],[10.2,10.2],[10.1,10.2],[10.1,10.1]]]}"#
    static let depot = Zone(name: "depot", shape: .polygons([[GeoPoint(latitude: 10.1, longitude: 10.1), GeoPoint(latitude: 10.1, longitude: 10.2),
                                                              GeoPoint(latitude: 10.2, longitude: 10.2), GeoPoint(latitude: 10.2, longitude: 10.1)]]))

    static func zones(_ names: [String], square: String = ShadowEngineTests.square) -> String {
        let features = names.map { #"{"type":"Feature","geometry":\#(square),"properties":{"name":"\#($0)"}}"# }
        return #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#
    }

    /// The shadow service answering a `get` with this desired state.
    static func getAccepted(_ desired: String, version: Int = 1) -> EngineInput {
        .message(topic: prefix + "get/accepted",
                 payload: Array(#"{"state":{"desired":\#(desired)},"metadata":{},"version":\#(version),"timestamp":1}"#.utf8))
    }

    static func delta(_ state: String, version: Int) -> EngineInput {
        .message(topic: prefix + "update/delta", payload: Array(#"{"state":\#(state),"metadata":{},"version":\#(version),"timestamp":1}"#.utf8))
    }

    static func connected(_ config: TrackerConfig = World.config(), zones: [Zone] = []) -> World {
        var world = World(config: config, zones: zones, shadow: true)
        world.autoAcknowledge = true
        world.send(.start)
        world.connect()
        return world
    }

    /// Subscribed first (so the answer cannot be missed), then `get`.
    @Test func onConnectItSubscribesThenAsksForTheDocument() throws {
        let world = Self.connected()
        #expect(Set(world.subscriptions) == Set(["get/accepted", "get/rejected", "update/delta", "update/documents", "update/rejected"].map { Self.prefix + $0 }))
        let get = try #require(world.requests.first)
        #expect(get.topic == Self.prefix + "get")
        let token = try #require(JSONValue.parse(Array(get.payload.utf8))?["clientToken"])
        guard case .string(let text) = token else { Issue.record("no token"); return }
        #expect(text.utf8.count <= 64, "AWS: a clientToken is at most 64 bytes")
    }

    /// A zone pushed mid-drive: its event on the next fix, the settings kept and reported.
    @Test func aPushedZoneIsInForceAtTheNextFix() throws {
        var world = Self.connected()
        world.fix(0, latitude: 10.15, longitude: 10.15)
        #expect(world.topics.allSatisfy { !$0.hasSuffix("/geofence") })
        world.send(Self.getAccepted(#"{"geofences":\#(Self.zones(["depot"]))}"#, version: 3))
        world.fix(1, latitude: 10.15, longitude: 10.15)
        #expect(world.topics.last == "trackers/tracker-1/geofence" && world.received.last?.contains(#""zone":"depot""#) == true)
        #expect(world.savedRemote.last?.version == 3 && world.savedRemote.last?.desired["geofences"] != nil)
        let report = try #require(world.requests.last)
        #expect(report.topic == Self.prefix + "update" && report.payload.contains(#""reported":{"geofences""#))
        #expect(world.statuses.last?.zones.keys.contains("depot") == true)
        #expect(world.statuses.last?.settings.first { $0.key == "geofences" }?.origin == .remote)
    }

    /// A zone whose definition is unchanged keeps its state (no second OnEnter); a new zone
    /// starts afresh.
    @Test func anUnchangedZoneKeepsItsState() {
        var world = Self.connected(zones: [Self.depot])
        world.fix(0, latitude: 10.15, longitude: 10.15)
        #expect(world.received.filter { $0.contains("OnEnter") }.count == 1)
        world.send(Self.getAccepted(#"{"geofences":\#(Self.zones(["depot", "yard"]))}"#))
        world.fix(1, latitude: 10.15, longitude: 10.15)
        let enters = world.received.filter { $0.contains("OnEnter") }
        #expect(enters.count == 2 && enters.last?.contains(#""zone":"yard""#) == true, "\(enters)")
        #expect(world.engine.planner.detector.state(of: "depot") == .inBoundary)
    }

    /// every-fix in the file; the shadow's adaptive policy (stopped: a fix per half hour) takes
    /// over at once, and its removal brings the file's back.
    @Test func aPushedReportingPolicyChangesThePublishing() {
        var world = Self.connected()
        for second in 0..<5 { world.fix(Int64(second)); world.advance(.seconds(1)) }
        #expect(world.receivedFixTimes.count == 5)
        world.send(Self.getAccepted(#"{"report":{"policy":"adaptive","stop_speed_mps":1}}"#))
        for second in 5..<65 { world.fix(Int64(second)); world.advance(.seconds(1)) }
        #expect(world.receivedFixTimes.count <= 6, "stopped under the shadow's policy: \(world.receivedFixTimes.count)")
        world.send(.message(topic: Self.prefix + "update/documents", payload: Array(#"""
            {"previous":{},"current":{"state":{"reported":{"report":{"policy":"adaptive","stop_speed_mps":1}}},"metadata":{},"version":2},"timestamp":1}
            """#.utf8)))
        let before = world.receivedFixTimes.count
        for second in 65..<70 { world.fix(Int64(second)); world.advance(.seconds(1)) }
        #expect(world.receivedFixTimes.count == before + 5, "every fix again, as the file says")
        #expect(world.requests.last?.payload.contains(#""report":null"#) == true, "the reported state drops the key")
    }

    /// An invalid desired state changes nothing and is reported with check-config's words.
    @Test func anInvalidDesiredStateIsReportedNotApplied() throws {
        var world = Self.connected()
        world.send(Self.getAccepted(#"{"report":{"moving_interval_s":0},"log_level":"debug"}"#))
        #expect(world.savedRemote.isEmpty && world.logLevels.isEmpty, "nothing half-applied")
        let report = try #require(world.requests.last)
        #expect(report.payload.contains(#"{"path":"report.moving_interval_s","problem":"0.0 is out of range (1.0 to 86400.0)"}"#), "\(report.payload)")
        #expect(!world.logged("not applied: report.moving_interval_s").isEmpty)
        #expect(world.statuses.isEmpty || world.statuses.last?.shadow?.errors.count == 1)
        world.send(Self.delta(#"{"report":{"moving_interval_s":10}}"#, version: 2))
        #expect(world.logLevels == [.debug] && world.savedRemote.last?.version == 2)
        #expect(world.requests.last?.payload.contains(#""errors":null"#) == true)
    }

    /// The presence topic moves: old retained message cleared, online on the new one, and the
    /// last will follows from the next connection.
    @Test func aNewStatusTopicMovesThePresence() {
        var world = Self.connected()
        world.send(Self.getAccepted(#"{"status_topic":"fleet/{clientId}/presence"}"#))
        #expect(world.willTopics == ["fleet/tracker-1/presence"])
        #expect(Array(world.topics.suffix(2)) == ["trackers/tracker-1/status", "fleet/tracker-1/presence"])
        #expect(Array(world.announcements.suffix(2))[0] == "" && world.announcements.last?.contains(#""state":"online""#) == true)
    }

    /// Shadow requests spend tokens of the rate cap like everything else.
    @Test func shadowRequestsAreCountedByTheCap() {
        var world = Self.connected(World.config { $0.mqtt.maxPublishRate = 2 })
        #expect(world.announcements.count == 1 && world.requests.count == 1, "presence and get: the cap's two tokens")
        world.send(Self.getAccepted(#"{"log_level":"debug"}"#))
        #expect(world.requests.count == 1, "the report waits for a token")
        world.advance(.seconds(2))
        #expect(world.requests.count == 2)
    }
}
