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
}
