import Foundation
import Testing
import TestSupport
@testable import TrackerCore

@Suite struct EpochAssemblerTests {
    static func cycle(_ time: String, lat: String = "1009.0014", quality: Int = 1, status: String = "A",
                      gsaMode: Int = 3, talker: String = "GP") -> [String] {
        [
            sentence("\(talker)GGA,\(time),\(lat),N,01009.0016,E,\(quality),09,0.9,42.0,M,47.0,M,,"),
            sentence("\(talker)GSA,A,\(gsaMode),04,05,09,12,16,18,25,26,29,,,,1.6,0.9,1.3"),
            sentence("\(talker)RMC,\(time),\(status),\(lat),N,01009.0016,E,48.6,90.0,020320,,,A"),
            sentence("\(talker)VTG,90.0,T,,M,48.6,N,90.0,K,A"),
        ]
    }

    @Test func aCycleBecomesOneFixWithEveryField() throws {
        let (fixes, stats) = decode(Self.cycle("080320.00"))
        try #require(fixes.count == 1)
        let fix = fixes[0]
        #expect(fix.time?.iso8601 == "2020-03-02T08:03:20.000Z")
        #expect(fix.mode == .threeD)
        #expect(fix.quality == .gps)
        #expect(abs(fix.latitude! - (10 + 9.0014 / 60)) < 1e-12)
        #expect(abs(fix.longitude! - (10 + 9.0016 / 60)) < 1e-12)
        #expect(fix.altitudeMSL == 42.0)
        #expect(fix.geoidSeparation == 47.0)
        #expect(fix.satellitesUsed == 9)
        #expect(fix.hdop == 0.9 && fix.pdop == 1.6 && fix.vdop == 1.3)
        #expect(abs(fix.speed! - 48.6 * 1852 / 3600) < 1e-9)
        #expect(fix.track == 90.0)
        #expect(abs(fix.horizontalError! - 0.9 * 19.0) < 1e-9)
        #expect(stats.sentences == ["GGA": 1, "GSA": 1, "RMC": 1, "VTG": 1])
        #expect(stats.fixes == 1 && stats.noFixes == 0)
    }

    @Test(arguments: [
        ("GGA quality 0, RMC V, GSA 1", 0, "V", 1),
        ("GGA quality 0 and RMC V while GSA still says 3D", 0, "V", 3),
    ])
    func aCycleWithoutPositionIsNoFixNeverZeroZero(_ name: String, quality: Int, status: String, gsaMode: Int) throws {
        let (fixes, stats) = decode(Self.cycle("080320.00", quality: quality, status: status, gsaMode: gsaMode))
        try #require(fixes.count == 1)
        #expect(fixes[0].mode == .noFix)
        #expect(fixes[0].latitude == nil && fixes[0].longitude == nil)
        #expect(fixes[0].altitudeMSL == nil && fixes[0].speed == nil)
        #expect(!FixJSON.encode(fixes[0]).contains("\"lat\""))
        #expect(FixJSON.encode(fixes[0]).contains("\"mode\":1"))
        #expect(stats.noFixes == 1)
    }

    @Test func emptyPositionFieldsOfAColdReceiverAreNoFix() throws {
        let (fixes, _) = decode([sentence("GPGGA,080320.00,,,,,0,00,99.99,,,,,,"),
                                 sentence("GPRMC,080320.00,V,,,,,,,020320,,,N")])
        try #require(fixes.count == 1)
        #expect(fixes[0].mode == .noFix)
        #expect(fixes[0].time?.iso8601 == "2020-03-02T08:03:20.000Z")
    }

    @Test func gsaTwoDWinsOverAnAltitude() throws {
        let (fixes, _) = decode(Self.cycle("080320.00", gsaMode: 2))
        #expect(fixes.first?.mode == .twoD)
        #expect(fixes.first?.altitudeMSL == nil)
    }

    @Test func southAndWestAreNegative() throws {
        let (fixes, _) = decode([sentence("GPRMC,225446.33,A,4916.45,S,12311.12,W,000.5,054.7,191194,020.3,E,A")])
        let fix = try #require(fixes.first)
        #expect(abs(fix.latitude! + (49 + 16.45 / 60)) < 1e-12)
        #expect(abs(fix.longitude! + (123 + 11.12 / 60)) < 1e-12)
        #expect(fix.time?.iso8601 == "1994-11-19T22:54:46.330Z")
        #expect(fix.mode == .twoD)
    }

    @Test(arguments: ["GP", "GL", "GA", "GB", "BD", "GQ", "GI", "GN"])
    func anyTalkerIsRead(talker: String) {
        let (fixes, _) = decode(Self.cycle("080320.00", talker: talker))
        #expect(fixes.count == 1 && fixes[0].hasPosition)
    }

    @Test func gnsGllZdaAndOldVTGAreRead() throws {
        let lines = [
            sentence("GNGNS,090000.00,5000.0000,N,00800.0000,E,RAN,14,0.8,120.5,47.2,,,V"),
            sentence("GPGLL,5000.0000,N,00800.0000,E,090000.00,A,D"),
            sentence("GPVTG,054.7,034.4,005.5,010.2"),
            sentence("GPZDA,090000.00,29,02,2024,00,00"),
        ]
        let (fixes, stats) = decode(lines)
        let fix = try #require(fixes.first)
        #expect(fix.time?.iso8601 == "2024-02-29T09:00:00.000Z")
        #expect(fix.quality == .rtkFixed)
        #expect(fix.mode == .threeD)
        #expect(fix.altitudeMSL == 120.5 && fix.geoidSeparation == 47.2)
        #expect(fix.satellitesUsed == 14)
        #expect(abs(fix.speed! - 5.5 * 1852 / 3600) < 1e-9)
        #expect(fix.track == 54.7)
        #expect(stats.rejectedLines == 0)
    }

    @Test func theDateCarriesAcrossMidnight() throws {
        let lines = [
            sentence("GPRMC,235959.00,A,4807.038,N,01131.000,E,0.0,0.0,311224,,,A"),
            sentence("GPGGA,235959.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),
            sentence("GPGGA,000000.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),
            sentence("GPGGA,000001.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),
        ]
        let times = decode(lines).fixes.compactMap { $0.time?.iso8601 }
        #expect(times == ["2024-12-31T23:59:59.000Z", "2025-01-01T00:00:00.000Z", "2025-01-01T00:00:01.000Z"])
    }

    @Test func noDateYetMeansNoTime() throws {
        let (fixes, _) = decode([sentence("GPGGA,080320.00,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,")])
        #expect(fixes.first?.time == nil)
        #expect(fixes.first?.hasPosition == true)
        #expect(!FixJSON.encode(fixes[0]).contains("time"))
    }

    @Test func millisecondsAreKept() {
        let lines = [sentence("GNRMC,132819.60,A,4134.4979546,N,00211.4312345,E,0.01,,140820,,,D")]
        #expect(decode(lines).fixes.first?.time?.iso8601 == "2020-08-14T13:28:19.600Z")
    }

    /// Live sources must not hold a fix back until the next cycle: once the cycle's last
    /// sentence is known (two cycles seen), the fix leaves with that sentence.
    @Test func aLearnedCycleEndEmitsWithoutWaiting() {
        var decoder = NMEADecoder()
        var fixes: [Fix] = []
        for (n, time) in ["080320.00", "080321.00", "080322.00", "080323.00"].enumerated() {
            let text = Self.cycle(time).joined(separator: "\r\n") + "\r\n"
            decoder.push(Array(text.utf8)) { fixes.append($0) }
            if n >= 2 { #expect(fixes.count == n + 1, "cycle \(n) not emitted at its VTG") }
        }
        #expect(fixes.map { $0.time!.millisecondOfDay } == [29_000_000, 29_001_000, 29_002_000, 29_003_000])
    }

    @Test func malformedFieldsAreCountedAndSkipped() {
        let lines = [
            sentence("GPGGA,080320.00,10x9.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,"),
            sentence("GPRMC,080320.00,A,1009.0014,N,01009.0016,E,48.6,90.0,021320,,,A"),
            sentence("GPGSA,A,7,,,,,,,,,,,,,1.6,0.9,1.3"),
            sentence("GPRMC,256161.00,A,1009.0014,N,01009.0016,E,48.6,90.0,020320,,,A"),
            sentence("GPRMC,080320.00,A,9100.0000,N,01009.0016,E,48.6,90.0,020320,,,A"),
        ]
        let (fixes, stats) = decode(lines)
        #expect(fixes.isEmpty)
        #expect(stats.rejected == [.malformed: 5])
    }

    @Test func unsupportedAndProprietarySentencesAreCountedAsOther() {
        let (_, stats) = decode([sentence("PMTK001,314,3"), sentence("GPTXT,01,01,02,u-blox"), sentence("GPGST,1,2,3")])
        #expect(stats.sentences == ["other": 3])
        #expect(stats.rejectedLines == 0)
    }

    @Test func chunkBoundariesDoNotMatter() throws {
        let bytes = try Data(contentsOf: SharedTestData.tracks.appendingPathComponent("seed-drive-noisy.nmea"))
        let whole = NMEADecoder.decode(bytes)
        var random = SeededGenerator(seed: 7)
        var decoder = NMEADecoder()
        var fixes: [Fix] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let end = min(bytes.endIndex, i + Int.random(in: 1...300, using: &random))
            decoder.push(bytes[i..<end]) { fixes.append($0) }
            i = end
        }
        decoder.finish { fixes.append($0) }
        #expect(fixes == whole.fixes)
        #expect(decoder.statistics == whole.statistics)
    }
}
