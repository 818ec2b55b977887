import Foundation
import Testing
@testable import TrackerCore

/// The device's half of the shadow protocol, message by message.
@Suite struct DeviceShadowTests {
    static let prefix = "$aws/things/truck-7/shadow/name/trackerd/"

    func message(_ suffix: String, _ body: String, _ shadow: inout DeviceShadow) -> DeviceShadow.Reaction? {
        shadow.received(topic: Self.prefix + suffix, payload: Array(body.utf8))
    }

    func reported(_ reaction: DeviceShadow.Reaction?) -> JSONValue? {
        reaction?.report.flatMap { JSONValue.parse($0) }?["state"]?["reported"]
    }

    @Test func aValidDesiredStateIsAppliedOnceAndReported() {
        var shadow = DeviceShadow(thingName: "truck-7")
        let first = message("get/accepted", #"{"state":{"desired":{"log_level":"debug"}},"version":4}"#, &shadow)
        #expect(first?.apply?.logLevel == "debug" && shadow.appliedVersion == 4)
        #expect(reported(first) == .object(["log_level": .string("debug")]))
        // Its own report comes back as documents: nothing to do, nothing to say.
        let echo = message("update/documents", #"{"current":{"state":{"desired":{"log_level":"debug"},"reported":{"log_level":"debug"}},"version":5}}"#, &shadow)
        #expect(echo?.apply == nil && echo?.report == nil)
    }

    @Test func aDeltaChangesOnlyWhatItNamesAndOldNewsIsIgnored() {
        var shadow = DeviceShadow(thingName: "truck-7")
        _ = message("get/accepted", #"{"state":{"desired":{"log_level":"debug","report":{"moving_interval_s":30}}},"version":2}"#, &shadow)
        let delta = message("update/delta", #"{"state":{"report":{"moving_interval_s":10}},"version":3}"#, &shadow)
        #expect(delta?.apply?.document["log_level"] == .string("debug"))
        #expect(delta?.apply?.document["report"] == .object(["moving_interval_s": .number(10)]))
        #expect(reported(delta) == .object(["report": .object(["moving_interval_s": .number(10)])]), "only the change is sent")
        let stale = message("update/delta", #"{"state":{"report":{"moving_interval_s":99}},"version":3}"#, &shadow)
        #expect(stale?.apply == nil && stale?.report == nil)
    }

    /// A key removed from desired arrives only through `/update/documents`: it goes, and the
    /// reported state drops it with null.
    @Test func aRemovedKeyReturnsToTheFile() {
        var shadow = DeviceShadow(thingName: "truck-7")
        _ = message("get/accepted", #"{"state":{"desired":{"log_level":"debug","alerts_topic":"a/b"}},"version":2}"#, &shadow)
        let removed = message("update/documents", #"{"current":{"state":{"desired":{"alerts_topic":"a/b"},"reported":{"log_level":"debug","alerts_topic":"a/b"}},"version":3}}"#, &shadow)
        #expect(removed?.apply?.logLevel == nil && removed?.apply?.alertsTopic == "a/b")
        #expect(reported(removed) == .object(["log_level": .null]))
    }

    /// Refused whole: the old settings stay, errors are reported once, and cleared when fixed.
    @Test func anInvalidStateIsReportedAndTheOldOneKept() {
        var shadow = DeviceShadow(thingName: "truck-7")
        _ = message("get/accepted", #"{"state":{"desired":{"log_level":"debug"}},"version":1}"#, &shadow)
        let bad = message("update/delta", #"{"state":{"log_level":"loud","report":{"policy":"sometimes"}},"version":2}"#, &shadow)
        #expect(bad?.apply == nil && shadow.applied.logLevel == "debug")
        #expect(shadow.problems.map(\.path) == ["log_level", "report.policy"])
        let errors = reported(bad)?["errors"]
        guard case .array(let list)? = errors else { Issue.record("no errors reported: \(String(describing: reported(bad)))"); return }
        #expect(list.count == 2 && reported(bad)?["log_level"] == nil, "the old value stays reported")
        #expect(bad?.log.first?.message.contains("not applied") == true)
        let again = message("update/documents", #"{"current":{"state":{"desired":{"log_level":"loud","report":{"policy":"sometimes"}}},"version":3}}"#, &shadow)
        #expect(again?.log.isEmpty == true, "the same problems are not logged twice")
        let fixed = message("update/delta", #"{"state":{"log_level":"info","report":{"policy":"adaptive"}},"version":4}"#, &shadow)
        #expect(fixed?.apply?.logLevel == "info")
        #expect(reported(fixed)?["errors"] == .null)
    }

    /// No shadow (404): settings kept from the last run go; another rejection is only logged.
    @Test func noShadowMeansTheFileAlone() throws {
        let kept = try RemoteSettings.validate(.object(["log_level": .string("debug")])).get()
        var shadow = DeviceShadow(thingName: "truck-7", applied: kept, appliedVersion: 9)
        let missing = message("get/rejected", #"{"code":404,"message":"No shadow exists with name: 'trackerd'"}"#, &shadow)
        #expect(missing?.apply == RemoteSettings() && missing?.report == nil)
        let other = message("get/rejected", #"{"code":500,"message":"Internal service failure"}"#, &shadow)
        #expect(other?.apply == nil && other?.log.first?.message.contains("500: Internal service failure") == true)
    }

    /// Only its own refused requests are its business; other topics are not its at all.
    @Test func rejectionsAndForeignTopics() {
        var shadow = DeviceShadow(thingName: "truck-7", processID: 5)
        let get = shadow.getRequest()
        #expect(get.topic == Self.prefix + "get")
        let mine = message("update/rejected", #"{"code":413,"message":"The payload exceeds the maximum size allowed","clientToken":"trackerd-5-9"}"#, &shadow)
        #expect(mine?.log.first?.message == "shadow trackerd: the reported state was refused with 413: The payload exceeds the maximum size allowed")
        let theirs = message("update/rejected", #"{"code":409,"message":"Version conflict","clientToken":"operator"}"#, &shadow)
        #expect(theirs?.log.isEmpty == true)
        #expect(shadow.received(topic: "$aws/things/other/shadow/name/trackerd/get/accepted", payload: []) == nil)
        #expect(message("get/accepted", "not json", &shadow)?.log.first?.level == .warning)
    }
}

extension DeviceShadowTests {
    /// A zone set the service accepted (under 8 KB) but whose echo in the reported state would
    /// take the document over 8 KB is refused with that reason, and nothing changes.
    @Test func zonesTooLargeToConfirmAreRefused() throws {
        let ring = (0...200).map { i -> String in
            let angle = Double(i) / 200 * 2 * Double.pi
            return "[\(10.15 + 0.04 * cos(angle)),\(10.15 + 0.04 * sin(angle))]"
        }.joined(separator: ",")
        let desired = #"{"geofences":{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[\#(ring)]]},"properties":{"name":"big"}}]}}"#
        #expect(desired.utf8.count > 4200 && desired.utf8.count < 8192, "\(desired.utf8.count) bytes: the service takes it")
        var shadow = DeviceShadow(thingName: "truck-7")
        let reaction = message("get/accepted", #"{"state":{"desired":\#(desired)},"version":2}"#, &shadow)
        #expect(reaction?.apply == nil && shadow.applied == RemoteSettings())
        let problem = try #require(shadow.problems.first)
        #expect(problem.path == "geofences" && problem.problem.contains("over AWS IoT Core's 8 KB limit"), "\(problem)")
        let report = try #require(reaction?.report)
        #expect(report.count < 1024, "the refusal itself fits")
    }
}

extension DeviceShadowTests {
    /// Hundreds of mistakes still make a report the service takes: the errors that fit, then a count.
    @Test func aReportOfManyErrorsStaysSmall() throws {
        let keys = (0..<300).map { #""unknown_setting_number_\#($0)":1"# }.joined(separator: ",")
        var shadow = DeviceShadow(thingName: "truck-7")
        let reaction = message("get/accepted", #"{"state":{"desired":{\#(keys)}},"version":2}"#, &shadow)
        #expect(shadow.problems.count == 300)
        let report = try #require(reaction?.report)
        #expect(report.count < NamedShadow.maxDocumentBytes / 4 + 200, "\(report.count) bytes")
        guard case .array(let errors)? = JSONValue.parse(report)?["state"]?["reported"]?["errors"] else { Issue.record("no errors"); return }
        guard case .string(let last)? = errors.last?["problem"] else { Issue.record("no count"); return }
        #expect(errors.count < 300 && last == "\(300 - errors.count + 1) more problems: see the device's log", "\(last)")
    }
}
