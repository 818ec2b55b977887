import Foundation
import Testing
import TestSupport
@testable import TrackerCore

/// The fault campaign's inputs: checksum-valid sentences with numbers no receiver can report,
/// and configuration files built to exhaust the parser. Each is refused with a count or a
/// located error; none may crash, hang or reach a fix.
@Suite struct HostileInputTests {
    // MARK: NMEA

    /// The sentence that killed the daemon: ZDA with year 300000000 and no RMC date in the cycle.
    @Test func aZDAYearOutOfRangeIsMalformedNotACrash() {
        let (fixes, stats) = decode([
            sentence("GPGGA,120000.00,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,"),
            "$GPZDA,120000.00,01,01,300000000,00,00*56",
            sentence("GPGGA,120001.00,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,"),
        ])
        #expect(stats.rejected[.malformed] == 1)
        #expect(fixes.count == 2)
        #expect(fixes.allSatisfy { $0.time == nil }, "no date was ever valid")
    }

    /// One field of one real sentence at a time, set to a value out of its range: the line is
    /// counted as malformed and the cycle carries no trace of it.
    @Test(arguments: [
        ("GPGGA,120000.00,1009.0014,N,01009.0016,E,1,09,1.8e308,42.0,M,47.0,M,,", "HDOP"),
        ("GPGGA,120000.00,1009.0014,N,01009.0016,E,1,09,-1,42.0,M,47.0,M,,", "HDOP"),
        ("GPGGA,120000.00,1009.0014,N,01009.0016,E,1,09,0.9,1e9,M,47.0,M,,", "altitude"),
        ("GPGGA,120000.00,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,4700,M,,", "geoid separation"),
        ("GPGGA,120000.00,1009.0014,N,01009.0016,E,1,99999999999,0.9,42.0,M,47.0,M,,", "satellites used"),
        ("GPGGA,120000.00,1009.0014,N,01009.0016,E,12,09,0.9,42.0,M,47.0,M,,", "fix quality"),
        ("GPGGA,0000-inf,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,", "time"),
        ("GPGGA,000061.5,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,", "time"),
        ("GPGGA,0000-1,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,", "time"),
        ("GPRMC,120000.00,A,1009.0014,N,01009.0016,E,1e300,90.0,020320,,,A", "speed"),
        ("GPRMC,120000.00,A,1009.0014,N,01009.0016,E,48.6,-90,020320,,,A", "course"),
        ("GPRMC,120000.00,A,1009.0014,N,01009.0016,E,48.6,361,020320,,,A", "course"),
        ("GPVTG,054.7,T,034.4,M,1e12,N,010.2,K,A", "speed"),
        ("GPGSA,A,3,01,02,03,04,,,,,,,,,1e308,0.9,1.3", "PDOP"),
        ("GPGSA,A,3,01,02,03,04,,,,,,,,,1.6,0.9,inf", "VDOP"),
        ("GPGSV,100,1,12,01,40,083,46", "GSV message count"),
        ("GPGSV,3,1,9999999,01,40,083,46", "satellites in view"),
        ("GPZDA,120000.00,01,01,1979,00,00", "year"),
        ("GPZDA,120000.00,01,13,2020,00,00", "month"),
        ("GPZDA,120000.00,32,01,2020,00,00", "day"),
        ("GPGNS,120000.00,1009.0014,N,01009.0016,E,AA,09,1e99,42.0,47.0,,", "HDOP"),
    ])
    func aFieldOutOfRangeIsRefused(body: String, field: String) {
        guard case .sentence(let parsed, _) = parse(sentence(body)) else {
            Issue.record("not a sentence: \(body)")
            return
        }
        do {
            _ = try NMEAMessage(parsed)
            Issue.record("accepted \(body)")
        } catch {
            // NMEAMessage throws NMEAFieldError only (typed throws).
            #expect(error.field == field, "\(body)")
        }
        let (_, stats) = decode([sentence(body)])
        #expect(stats.rejected[.malformed] == 1)
    }

    @Test func timestampsStayInsideTheirRange() {
        #expect(CivilDate(year: 300_000_000, month: 1, day: 1) == nil)
        #expect(CivilDate(year: 10_000, month: 1, day: 1) == nil)
        #expect(CivilDate(year: 2200, month: 12, day: 31) != nil)
        let last = UTCTimestamp(date: CivilDate(year: 2200, month: 12, day: 31)!, millisecondOfDay: 86_399_999)
        #expect(last.millisecondsSinceEpoch == FixRanges.milliseconds.upperBound)
        let first = UTCTimestamp(date: CivilDate(year: 1980, month: 1, day: 6)!, millisecondOfDay: 0)
        #expect(first.millisecondsSinceEpoch == FixRanges.milliseconds.lowerBound)
    }

    // MARK: configuration

    static func config(_ text: String) -> [ConfigError] {
        do {
            _ = try TrackerConfig.parse(text, file: "/etc/trackerd/trackerd.toml")
            return []
        } catch {
            return error.errors
        }
    }

    /// Each runs on the test's pool thread, whose stack is far smaller than a main thread's:
    /// the depth at which the unbounded parser crashed.
    @Test(arguments: [5_000, 50_000])
    func deeplyNestedArraysAreRefusedWithALine(depth: Int) {
        let text = "[gps]\nbaud = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        let errors = Self.config(text)
        #expect(errors.count == 1)
        #expect(errors.first?.line == 2)
        #expect(errors.first?.description.contains("nest deeper than 64 levels") == true, "\(errors)")
    }

    @Test(arguments: [5_000, 50_000])
    func deeplyNestedInlineTablesAreRefusedWithALine(depth: Int) {
        let text = "\n\nx = " + String(repeating: "{a = ", count: depth) + "1" + String(repeating: "}", count: depth) + "\n"
        let errors = Self.config(text)
        #expect(errors.count == 1)
        #expect(errors.first?.line == 3)
        #expect(errors.first?.description.contains("nest deeper than 64 levels") == true, "\(errors)")
    }

    @Test func aKeyOfTwentyThousandPartsIsRefusedWithALine() {
        let key = (0..<20_000).map { "k\($0)" }.joined(separator: ".")
        for text in ["[gps]\n\(key) = 1\n", "[\(key)]\n", "[[\(key)]]\n"] {
            let errors = Self.config(text)
            #expect(errors.count == 1)
            #expect(errors.first?.description.contains("more than 64 dotted parts") == true, "\(errors)")
        }
        // Nesting through headers and dotted keys together is bounded the same way.
        let deep = (0..<40).map { "t\($0)" }.joined(separator: ".")
        let errors = Self.config("[\(deep)]\n\(deep) = 1\n")
        #expect(errors.first?.line == 2)
        #expect(errors.first?.description.contains("nests deeper than 64 levels") == true, "\(errors)")
    }

    @Test func aThirtyThousandPointPolygonIsRefusedAtOnce() {
        let points = (0..<30_000).map { i -> String in
            let angle = Double(i) / 30_000 * 2 * Double.pi
            return "[\(10 + 0.01 * sin(angle)), \(10 + 0.01 * cos(angle))]"
        }
        let text = "[[geofence]]\nname = \"big\"\npolygon = [\(points.joined(separator: ", "))]\n"
        let started = MonotonicInstant.now
        let errors = Self.config(text)
        #expect(errors.count == 1)
        #expect(errors.first?.description == "/etc/trackerd/trackerd.toml:3: geofence[0].polygon: has 30000 points; at most 1000 (put a larger area in a geojson file)")
        // Not a timing assertion on the parser's speed (that lives in make bench): only that it
        // does not take the quadratic path the campaign saw (over 10 s).
        #expect(MonotonicInstant.now - started < .seconds(5))
    }

    @Test func aValueWithANewlineStaysOnOneErrorLine() {
        let errors = Self.config("[device]\nid = \"tracker\\n/etc/trackerd/trackerd.toml:1: forged: line\"\nbogus = 1\n[gps]\nsource = \"x\\ny\"\n")
        let text = ConfigErrors(errors).description
        #expect(errors.count >= 2)
        #expect(text.split(separator: "\n").count == errors.count, "\(text)")
        #expect(text.contains(#"x\ny"#), "\(text)")
        #expect(!text.contains("\nforged"))
        let quoted = Self.config("[gps]\n\"a\\nb\" = 1\n")
        #expect(quoted.first?.description.hasPrefix(#"/etc/trackerd/trackerd.toml:2: gps.a\nb: unknown key; [gps] takes "#) == true)
    }
}
