import Testing
@testable import TrackerCore

/// The shadow service's semantics, as AWS IoT Core documents them, without a broker.
@Suite struct NamedShadowTests {
    func json(_ text: String) -> [UInt8] { Array(text.utf8) }
    func reply(_ replies: [NamedShadow.Reply], _ suffix: String) -> JSONValue? { replies.first { $0.suffix == suffix }?.payload }

    @Test func getBeforeAnyUpdateIs404() {
        let shadow = NamedShadow()
        let replies = shadow.get(json(#"{"clientToken":"t1"}"#), name: "trackerd", now: 100)
        #expect(replies == [NamedShadow.Reply("get/rejected", .object([
            "code": .number(404), "message": .string("No shadow exists with name: 'trackerd'"), "timestamp": .number(100),
            "clientToken": .string("t1")]))])
    }

    /// Desired state differing from reported: accepted, documents and delta, each with the
    /// version, timestamp and clientToken; get shows the delta.
    @Test func anUpdateIsAcceptedDocumentedAndDeltaed() throws {
        var shadow = NamedShadow()
        _ = shadow.update(json(#"{"state":{"reported":{"report":{"moving_interval_s":60}}}}"#), now: 10)
        let replies = shadow.update(json(#"{"state":{"desired":{"report":{"moving_interval_s":30},"log_level":"debug"}},"clientToken":"op-1"}"#), now: 20)
        #expect(replies.map(\.suffix) == ["update/accepted", "update/documents", "update/delta"])
        let accepted = try #require(reply(replies, "update/accepted"))
        #expect(accepted["version"] == .number(2) && accepted["timestamp"] == .number(20) && accepted["clientToken"] == .string("op-1"))
        #expect(accepted["metadata"]?["desired"]?["report"]?["moving_interval_s"] == .object(["timestamp": .number(20)]))
        let delta = try #require(reply(replies, "update/delta"))
        #expect(delta["state"] == .object(["report": .object(["moving_interval_s": .number(30)]), "log_level": .string("debug")]))
        let documents = try #require(reply(replies, "update/documents"))
        #expect(documents["previous"]?["version"] == .number(1) && documents["current"]?["version"] == .number(2))
        #expect(shadow.get([], name: "trackerd", now: 30).first?.payload["state"]?["delta"] == delta["state"])
    }

    /// Reported catching up removes the delta; a reported-only update sends none.
    @Test func reportingTheDesiredStateLeavesNoDelta() {
        var shadow = NamedShadow()
        _ = shadow.update(json(#"{"state":{"desired":{"log_level":"debug"}}}"#), now: 1)
        let replies = shadow.update(json(#"{"state":{"reported":{"log_level":"debug"}}}"#), now: 2)
        #expect(!replies.contains { $0.suffix == "update/delta" })
        #expect(shadow.get([], name: "trackerd", now: 3).first?.payload["state"]?["delta"] == nil)
    }

    /// null deletes a key; a wrong version is a conflict; no state, a foreign node or 8 KB+ are refused.
    @Test func mergesAndRefusals() {
        var shadow = NamedShadow()
        _ = shadow.update(json(#"{"state":{"desired":{"a":1,"b":{"c":2,"d":3}}}}"#), now: 1)
        _ = shadow.update(json(#"{"state":{"desired":{"a":null,"b":{"c":null}}},"version":1}"#), now: 2)
        #expect(shadow.desired == .object(["b": .object(["d": .number(3)])]) && shadow.version == 2)
        #expect(shadow.update(json(#"{"state":{"desired":{"x":1}},"version":1}"#), now: 3).first?.payload["code"] == .number(409))
        #expect(shadow.update(json(#"{"desired":{"x":1}}"#), now: 3).first?.payload["message"] == .string("Missing required node: state"))
        #expect(shadow.update(json(#"{"state":{"wanted":{}}}"#), now: 3).first?.payload["code"] == .number(400))
        let big = #"{"state":{"desired":{"zones":""# + String(repeating: "x", count: 8200) + #""}}}"#
        let refused = shadow.update(json(big), now: 3)
        #expect(refused.first?.suffix == "update/rejected" && refused.first?.payload["code"] == .number(413))
        #expect(shadow.update(json("not json"), now: 3).first?.payload["code"] == .number(400))
        // Each request small, the document not: desired and reported count together.
        let half = String(repeating: "x", count: 4200)
        #expect(shadow.update(json(#"{"state":{"desired":{"zones":"\#(half)"}}}"#), now: 4).first?.suffix == "update/accepted")
        let echo = shadow.update(json(#"{"state":{"reported":{"zones":"\#(half)"}}}"#), now: 5)
        #expect(echo.first?.payload["code"] == .number(413) && shadow.reported == nil)
        _ = shadow.update(json(#"{"state":{"desired":{"zones":null}}}"#), now: 6)
        #expect(shadow.version == 4, "nothing refused changed the document")
    }

    @Test func arraysAreComparedWhole() {
        let desired = JSONValue.object(["zones": .array([.number(1), .number(2)])])
        #expect(desired.delta(from: .object(["zones": .array([.number(1)])])) == desired)
        #expect(desired.delta(from: desired) == nil)
    }
}
