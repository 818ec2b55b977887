/// A UTC instant with millisecond resolution, the resolution receivers report.
/// GPS time carries no leap-second smearing, so plain milliseconds since 1970 are exact.
public struct UTCTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public init(date: CivilDate, millisecondOfDay: Int) {
        millisecondsSinceEpoch = Int64(date.daysSinceEpoch) * 86_400_000 + Int64(millisecondOfDay)
    }

    public var date: CivilDate {
        CivilDate(daysSinceEpoch: Int(millisecondsSinceEpoch.floorDiv(86_400_000)))
    }

    public var millisecondOfDay: Int {
        Int(millisecondsSinceEpoch - Int64(date.daysSinceEpoch) * 86_400_000)
    }

    /// `2020-03-02T08:03:20.200Z`
    public var iso8601: String {
        var out: [UInt8] = []
        appendISO8601(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `iso8601` appended to `out` as UTF-8.
    public func appendISO8601(to out: inout [UInt8]) {
        let d = date
        appendPadded((d.year, 4), (d.month, 2), (d.day, 2), separatedBy: "-", to: &out)
        out.append(UInt8(ascii: "T"))
        appendTimeOfDay(to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `08:03:20.200`
    func appendTimeOfDay(to out: inout [UInt8]) {
        let ms = millisecondOfDay
        appendPadded((ms / 3_600_000, 2), (ms / 60_000 % 60, 2), (ms / 1000 % 60, 2), separatedBy: ":", to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(ms % 1000, 3, to: &out)
    }

    /// Reads the `iso8601` form back (`...T08:03:20Z` or with 1 to 9 fraction digits).
    public init?(iso8601 text: String) {
        let u = Array(text.utf8)
        guard u.count >= 20, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58, u.last == 90 else { return nil }
        var ms = 0
        if u.count > 20 {
            guard u[19] == 46, u.count <= 30, let frac = Self.decimal(u, 20..<(u.count - 1)) else { return nil }
            let digits = u.count - 21
            var scaled = Double(frac)
            for _ in 0..<digits { scaled /= 10 }
            ms = Int((scaled * 1000).rounded())
        } else if u.count != 20 { return nil }
        self.init(u, year: 0, month: 5, day: 8, hour: 11, minute: 14, second: 17, millisecond: ms)
    }

    /// Reads the gpsInput payload's `gpsDatTm` back: `03/02/2020  08:03:20.200` (month/day/year,
    /// two spaces, 0 to 3 fraction digits).
    public init?(gpsDateTime text: String) {
        let u = Array(text.utf8)
        guard u.count >= 20, u[2] == 47, u[5] == 47, u[10] == 32, u[11] == 32, u[14] == 58, u[17] == 58 else { return nil }
        var ms = 0
        if u.count > 20 {
            guard u[20] == 46, u.count >= 22, u.count <= 24, let frac = Self.decimal(u, 21..<u.count) else { return nil }
            ms = frac * [1, 100, 10, 1][u.count - 21]
        }
        self.init(u, year: 6, month: 0, day: 3, hour: 12, minute: 15, second: 18, millisecond: ms)
    }

    /// The date and time whose fields start at these offsets of `u` (four digits for the year,
    /// two for the rest), checked.
    private init?(_ u: [UInt8], year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        func field(_ start: Int, _ width: Int = 2) -> Int? { Self.decimal(u, start..<(start + width)) }
        guard let y = field(year, 4), let mo = field(month), let d = field(day), let h = field(hour), let mi = field(minute),
              let s = field(second), let date = CivilDate(year: y, month: mo, day: d), h < 24, mi < 60, s < 61 else { return nil }
        self.init(date: date, millisecondOfDay: ((h * 60 + mi) * 60 + s) * 1000 + millisecond)
    }

    private static func decimal(_ u: [UInt8], _ range: Range<Int>) -> Int? {
        var n = 0
        for i in range { guard u[i] >= 48 && u[i] <= 57 else { return nil }; n = n * 10 + Int(u[i] - 48) }
        return n
    }

    public var description: String { iso8601 }

    public static func < (lhs: UTCTimestamp, rhs: UTCTimestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public func adding(milliseconds: Int64) -> UTCTimestamp {
        UTCTimestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// Three padded numbers with a separator between them (a date, a time of day).
func appendPadded(_ first: (Int, Int), _ second: (Int, Int), _ third: (Int, Int), separatedBy separator: Unicode.Scalar,
                  to out: inout [UInt8]) {
    appendPadded(first.0, first.1, to: &out)
    out.append(UInt8(ascii: separator))
    appendPadded(second.0, second.1, to: &out)
    out.append(UInt8(ascii: separator))
    appendPadded(third.0, third.1, to: &out)
}

/// `pad`'s text appended to `out` as UTF-8.
func appendPadded(_ value: Int, _ width: Int, to out: inout [UInt8]) {
    if value < 0 {
        out.append(contentsOf: pad(value, width).utf8)
    } else {
        JSONNumber.appendDigits(UInt64(value), width: width, to: &out)
    }
}

extension Int64 {
    func floorDiv(_ divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
