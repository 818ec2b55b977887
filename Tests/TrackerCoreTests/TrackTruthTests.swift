import Foundation
import Testing
import TestSupport
@testable import TrackerCore

/// The synthetic drives across the original geofence, against their exact ground truth.
/// The noisy drive has lines with their checksum cut off; every epoch must still come out.
@Suite struct TrackTruthTests {
    struct Truth: Decodable {
        let time: String
        let valid: Bool
        let lat: Double?
        let lon: Double?
    }

    @Test(arguments: ["seed-drive", "seed-drive-noisy"])
    func matchesGroundTruth(track: String) throws {
        let nmea = try Data(contentsOf: SharedTestData.tracks.appendingPathComponent(track + ".nmea"))
        let truthText = try String(contentsOf: SharedTestData.tracks.appendingPathComponent(track + ".truth.jsonl"), encoding: .utf8)
        let truth = try truthText.split(whereSeparator: \.isNewline).map {
            try JSONDecoder().decode(Truth.self, from: Data($0.utf8))
        }
        let (fixes, statistics) = NMEADecoder.decode(nmea)
        print("track \(track): \(statistics.summary)")

        #expect(fixes.count == truth.count)
        var mismatches = 0
        for (fix, expected) in zip(fixes, truth) {
            let ok = fix.time?.iso8601 == expected.time && fix.hasPosition == expected.valid
                && (!expected.valid || (abs(fix.latitude! - expected.lat!) <= 1e-7 && abs(fix.longitude! - expected.lon!) <= 1e-7))
            if !ok {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(track): \(expected) but decoded \(FixJSON.encode(fix))") }
            }
        }
        #expect(mismatches == 0)
        #expect(statistics.fixes == truth.filter(\.valid).count)
        #expect(statistics.noFixes == truth.filter { !$0.valid }.count)
        if track == "seed-drive-noisy" {
            #expect(statistics.rejected[.truncated] == 273)
        } else {
            #expect(statistics.rejectedLines == 0)
        }
    }
}
