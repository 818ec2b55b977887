import Foundation
import Testing
@testable import TrackerCore

/// trackerd's own JSON (issue 17: Foundation was most of the binary) must read and write what
/// Foundation did, byte for byte where bytes were kept: the status file, the state files, the
/// provisioning messages. Foundation is the reference here (the tests may link it).
@Suite struct JSONCodecTests {
    static func foundation(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static let ledger: JobLedger = {
        var ledger = JobLedger()
        ledger.active = .init(jobId: "job-1", operation: .installPackage(url: "https://files.example/p.deb", sha256: String(repeating: "ab", count: 32),
                                                                          size: 5_167_216, version: "0.2.0"),
                              step: .downloading, fromVersion: "0.1.0", outcome: .init(status: "FAILED", details: ["reason": "a \"quoted\"\nline"]),
                              fromCertificate: "c0ffee")
        ledger.ended = [.init(jobId: "job-0", status: "SUCCEEDED")]
        return ledger
    }()

    static let status: TrackerStatus = {
        let fix = Fix(time: UTCTimestamp(millisecondsSinceEpoch: 1_764_000_000_250), mode: .threeD, latitude: 10.150_001, longitude: -0.5,
                      altitudeMSL: 12.5, satellitesUsed: 9, hdop: 0.8, speed: 0, track: 359.9)
        var status = TrackerStatus(pid: 4242, deviceId: "tracker/1", thing: nil, source: "serial /dev/ttyS0 at 9600 baud",
                                   mqtt: .init(endpoint: "broker:8883", clientId: "t", connected: false,
                                               queue: .init(depth: 3, bytes: 300, oldestAgeSeconds: 12.3, dropped: 0),
                                               store: .init(durable: false, memoryOnlySince: "2025-11-24T16:00:00.000Z", reason: "disk full"),
                                               publishRate: .init(cap: 100, heldBack: 0)),
                                   lastFix: .init(ageSeconds: 0.4, fix: .init(fix), receivedAt: "2025-11-24T16:00:00.300Z"),
                                   zones: ["depot": .inBoundary, "yard": nil])
        status.writtenAt = "2025-11-24T16:00:00.700Z"
        status.settings = [EffectiveSetting(key: "report.interval_s", value: "30", origin: .remote)]
        status.odometerMetres = 123_456.7
        return status
    }()

    /// What the daemon writes is what Foundation wrote: the same bytes.
    @Test func writesWhatFoundationWrote() throws {
        #expect(try JSONCodec.encode(Self.status) == Self.foundation(Self.status))
        #expect(try JSONCodec.encode(Self.ledger) == Self.foundation(Self.ledger))
        let snapshot = GeofenceSnapshot(lastTime: UTCTimestamp(millisecondsSinceEpoch: 1_583_136_200_000),
                                        zones: ["depot": .init(state: .outOfBoundary, fingerprint: "f1")])
        #expect(try JSONCodec.encode(snapshot) == Self.foundation(snapshot))
        let record = RemoteSettingsRecord(version: 7, desired: .object(["report": .object(["interval_s": .number(30), "mode": .string("adaptive")]),
                                                                         "geofences": .array([.null, .bool(true), .number(-0.25)])]))
        #expect(try JSONCodec.encode(record) == Self.foundation(record))
        let request = RegisterThingRequest(certificateOwnershipToken: "token/+=", parameters: ["SerialNumber": "10000000abcd"])
        #expect(try JSONCodec.encode(request) == Self.foundation(request))
        let result = ProvisioningResult(thingName: "tracker_1", deviceConfiguration: [:], certificateId: "c1",
                                        provisionedAt: UTCTimestamp(millisecondsSinceEpoch: 1_764_000_000_000))
        #expect(try JSONCodec.encode(result) == Self.foundation(result))
    }

    /// What Foundation wrote (files left by an older trackerd) reads back to the same values.
    @Test func readsWhatFoundationWrote() throws {
        #expect(try JSONCodec.decode(TrackerStatus.self, from: Self.foundation(Self.status)) == Self.status)
        #expect(try JSONCodec.decode(JobLedger.self, from: Self.foundation(Self.ledger)) == Self.ledger)
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys]
        #expect(try JSONCodec.decode(JobLedger.self, from: Array(pretty.encode(Self.ledger))) == Self.ledger)
        let indented = try JSONCodec.encodePretty(Self.ledger)
        #expect(try JSONCodec.decode(JobLedger.self, from: indented) == Self.ledger)
        #expect(try JSONDecoder().decode(JobLedger.self, from: Data(indented)) == Self.ledger, "Foundation reads the indented form")
    }

    /// Numbers as JSON writes them: integers without a fraction, others in the shortest form
    /// that reads back the same; a Double beyond what JSON holds is refused.
    @Test func numbers() throws {
        let values: [Double] = [0, -0.0, 1, -5, 0.1, 10.150_001, 1e20, 1.5e-7, 123_456_789_012, 9_007_199_254_740_992, .pi,
                                9_007_199_254_740_991, -9_007_199_254_740_991, 1e15, -1e15 + 0.5, 18_446_744_073_709_551_616]
        for value in values {
            let ours = try JSONCodec.encode([value])
            #expect(try JSONCodec.decode([Double].self, from: ours) == [value])
            #expect(ours == Array(try JSONEncoder().encode([value])), "\(value): \(String(decoding: ours, as: UTF8.self))")
        }
        #expect(throws: EncodingError.self) { try JSONCodec.encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONCodec.encode([Double.infinity]) }
        #expect(try JSONCodec.decode([Int64].self, from: Array("[1764000000000, -3]".utf8)) == [1_764_000_000_000, -3])
        #expect(throws: DecodingError.self) { try JSONCodec.decode([Int].self, from: Array("[1.5]".utf8)) }
        #expect(throws: DecodingError.self) { try JSONCodec.decode([UInt8].self, from: Array("[256]".utf8)) }
    }

    /// The wrong shape is Swift's DecodingError with the path to the value; broken text is a
    /// JSONSyntaxError with the byte it stopped at.
    @Test func errorsSayWhereAndWhat() {
        do {
            _ = try JSONCodec.decode(JobLedger.self, from: Array(#"{"ended":[{"jobId":"j","status":5}]}"#.utf8))
            Issue.record("a number where a string belongs was accepted")
        } catch let DecodingError.typeMismatch(_, context) {
            #expect(context.codingPath.map(\.stringValue) == ["ended", "Index 0", "status"])
        } catch {
            Issue.record("\(error)")
        }
        #expect(throws: JSONSyntaxError(offset: 7, reason: "expected ',' or '}' in an object")) {
            try JSONCodec.decode(JSONValue.self, from: Array(#"{"a":1 "b":2}"#.utf8))
        }
    }

    /// Strict RFC 8259, as AWS IoT is, checked against Foundation's own parser on the same text.
    /// One difference, on purpose: Foundation's parser takes a trailing comma, which RFC 8259
    /// (and AWS IoT's shadow service) refuse.
    @Test(arguments: [
        #"{"a":[1,2.5e3,-0,true,false,null],"b":"é\u00e9\ud83d\ude00\n\/"}"#, "  [ ]  ", "{}", "\"\"", "0", "-12.5e-3", "1E+2",
        "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "[1 2]", "{\"a\" 1}", "{'a':1}", "[\"a\tb\"]",
        "\"\\x41\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"", "tru", "nul", "[", "{", "\"abc", "[1]x", "// c\n1", "1e999",
        "{\"a\":{\"b\":[{\"c\":[]}]}}", "\"\\u0000\"",
    ])
    func acceptsWhatFoundationAccepts(text: String) {
        let ours = JSONValue.parse(Array(text.utf8))
        let theirs = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        if ["[1,]", "{\"a\":1,}"].contains(text) {
            #expect(ours == nil && theirs != nil, "a trailing comma: refused here, taken by Foundation")
            return
        }
        #expect((ours != nil) == (theirs != nil), "\(text): ours \(ours.map { "\($0)" } ?? "refused"), Foundation's \(theirs.map { "\($0)" } ?? "refused")")
    }

    @Test func stringsAndNestingLimits() throws {
        #expect(JSONValue.parse(Array(#""\ud83d\ude00 \u00e9 \"q\" \\""#.utf8)) == .string("😀 é \"q\" \\"))
        #expect(JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) == nil, "not UTF-8")
        let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(JSONValue.parse(Array(deep.utf8)) != nil, "512 deep is allowed")
        let deeper = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(JSONValue.parse(Array(deeper.utf8)) == nil, "513 deep is refused, not a stack overflow")
        let control = JSONValue.string("a\u{1}b\u{1f}\t\u{8}\u{c}/é")
        #expect(String(decoding: control.bytes, as: UTF8.self) == #""a\u0001b\u001f\t\b\f/é""#)
        #expect(JSONValue.parse(control.bytes) == control)
    }
}
