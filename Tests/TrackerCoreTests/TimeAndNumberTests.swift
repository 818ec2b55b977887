import Testing
@testable import TrackerCore

@Suite struct TimeAndNumberTests {
    @Test func civilDatesRoundTripOverCenturies() {
        var days = CivilDate(year: 1900, month: 1, day: 1)!.daysSinceEpoch
        let end = CivilDate(year: 2200, month: 12, day: 31)!.daysSinceEpoch
        #expect(days == -25567)
        while days <= end {
            #expect(CivilDate(daysSinceEpoch: days).daysSinceEpoch == days)
            days += 1
        }
        #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2100, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2023, month: 13, day: 1) == nil)
    }

    @Test func isoTimestamps() {
        let t = UTCTimestamp(date: CivilDate(year: 2020, month: 3, day: 2)!, millisecondOfDay: 29_000_200)
        #expect(t.iso8601 == "2020-03-02T08:03:20.200Z")
        #expect(UTCTimestamp(iso8601: "2020-03-02T08:03:20.200Z") == t)
        #expect(UTCTimestamp(iso8601: "2020-03-02T08:03:20Z")?.millisecondOfDay == 29_000_000)
        #expect(UTCTimestamp(iso8601: "2020-03-02T08:03:20.2Z") == t)
        #expect(UTCTimestamp(iso8601: "2020-02-30T08:03:20Z") == nil)
        #expect(UTCTimestamp(millisecondsSinceEpoch: -1).iso8601 == "1969-12-31T23:59:59.999Z")
    }

    @Test func fixedNumbers() {
        #expect(JSONNumber.fixed(10.15, 9) == "10.15")
        #expect(JSONNumber.fixed(42.0, 3) == "42")
        #expect(JSONNumber.fixed(-0.5, 3) == "-0.5")
        #expect(JSONNumber.fixed(-0.0000001, 3) == "0")
        #expect(JSONNumber.fixed(0.00001, 9) == "0.00001")
        #expect(JSONNumber.fixed(-121.314191667, 9) == "-121.314191667")
        #expect(JSONNumber.fixed(1.0005, 3) == "1.001" || JSONNumber.fixed(1.0005, 3) == "1")
        #expect(JSONNumber.fixed(.nan, 3) == "null")
    }

    /// The payload is built as bytes: the same text the String arithmetic gave before, for
    /// values across every magnitude a payload carries (and beyond, where it falls back).
    @Test func fixedBytesAreTheStringFormsText() {
        func reference(_ value: Double, _ decimals: Int) -> String {
            guard value.isFinite else { return "null" }
            var scale = 1.0
            for _ in 0..<decimals { scale *= 10 }
            let scaled = (abs(value) * scale).rounded()
            guard scaled < 9.0e18 else { return value.description }
            let units = UInt64(scaled), divisor = UInt64(scale)
            var fraction = units % divisor
            var text = (value < 0 && units != 0 ? "-" : "") + String(units / divisor)
            if fraction != 0 {
                var digits = decimals
                while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
                text += "." + pad(Int(fraction), digits)
            }
            return text
        }
        var random = SplitMix64(seed: 17)
        for n in 0..<20_000 {
            let magnitude = Double(n % 14) - 4
            var unit = Double(random.next() % 1_000_000_007) / 1_000_000_007
            if random.next() % 2 == 0 { unit = -unit }
            let value = unit * pow10(magnitude)
            let decimals = Int(random.next() % 10)
            #expect(JSONNumber.fixed(value, decimals) == reference(value, decimals), "\(value) with \(decimals)")
        }
        for value in [0.0, -0.0, 1e19, -1e19, .infinity, 180, -180, 0.5, 9.9999999999] {
            #expect(JSONNumber.fixed(value, 7) == reference(value, 7), "\(value)")
        }
        for value in [0, 7, 10, 99, 100, 12345, Int.max, -3, -12345] {
            for width in 0...6 {
                var bytes: [UInt8] = []
                appendPadded(value, width, to: &bytes)
                #expect(String(decoding: bytes, as: UTF8.self) == pad(value, width), "\(value) width \(width)")
            }
        }
    }

    private func pow10(_ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(abs(exponent)) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}
