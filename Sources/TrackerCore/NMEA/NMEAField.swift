/// Readers for the field formats NMEA 0183 shares between sentences. An empty field is `nil`
/// (not given); a field that is present but unreadable throws.
enum NMEAField {
    /// Every number has a range (`FixRanges`): a checksum-valid sentence can still carry a
    /// corrupted or hostile field, and an HDOP of 1.8e308 or a year of 300000000 must be refused
    /// here, not overflow an error estimate or a timestamp later.
    static func double(_ text: Substring, _ name: String, _ range: ClosedRange<Double>) throws(NMEAFieldError) -> Double? {
        if text.isEmpty { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw NMEAFieldError(field: name, value: text)
        }
        return value
    }

    static func int(_ text: Substring, _ name: String, _ range: ClosedRange<Int>) throws(NMEAFieldError) -> Int? {
        if text.isEmpty { return nil }
        guard let value = Int(text), range.contains(value) else { throw NMEAFieldError(field: name, value: text) }
        return value
    }

    /// `ddmm.mmmm` + `N`/`S` (or `dddmm.mmmm` + `E`/`W`) to signed degrees.
    static func angle(_ text: Substring, _ hemisphere: Substring, positive: Character, negative: Character,
                      limit: Double, _ name: String) throws(NMEAFieldError) -> Double? {
        if text.isEmpty || hemisphere.isEmpty { return nil }
        guard let raw = Double(text), raw >= 0, raw.isFinite else { throw NMEAFieldError(field: name, value: text) }
        let degrees = (raw / 100).rounded(.down)
        let minutes = raw - degrees * 100
        let value = degrees + minutes / 60
        guard minutes < 60, value <= limit else { throw NMEAFieldError(field: name, value: text) }
        switch hemisphere.first {
        case positive: return value
        case negative: return -value
        default: throw NMEAFieldError(field: name + " hemisphere", value: hemisphere)
        }
    }

    static func latitude(_ text: Substring, _ hemisphere: Substring) throws(NMEAFieldError) -> Double? {
        try angle(text, hemisphere, positive: "N", negative: "S", limit: 90, "latitude")
    }

    static func longitude(_ text: Substring, _ hemisphere: Substring) throws(NMEAFieldError) -> Double? {
        try angle(text, hemisphere, positive: "E", negative: "W", limit: 180, "longitude")
    }

    /// `hhmmss` or `hhmmss.sss` to milliseconds of the UTC day.
    static func timeOfDay(_ text: Substring) throws(NMEAFieldError) -> Int? {
        if text.isEmpty { return nil }
        let utf8 = Array(text.utf8)
        guard utf8.count >= 6, utf8[0..<6].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw NMEAFieldError(field: "time", value: text)
        }
        func digits(_ i: Int) -> Int { Int(utf8[i] - 0x30) * 10 + Int(utf8[i + 1] - 0x30) }
        let hours = digits(0), minutes = digits(2)
        guard let seconds = Double(text.dropFirst(4)), seconds.isFinite, seconds >= 0, seconds < 61,
              hours < 24, minutes < 60 else {
            throw NMEAFieldError(field: "time", value: text)
        }
        return (hours * 3600 + minutes * 60) * 1000 + Int((seconds * 1000).rounded())
    }

    /// RMC's `ddmmyy`. Two-digit years pivot at 1980: GPS did not exist before.
    static func date(_ text: Substring) throws(NMEAFieldError) -> CivilDate? {
        if text.isEmpty { return nil }
        guard text.count == 6, let number = Int(text) else { throw NMEAFieldError(field: "date", value: text) }
        let day = number / 10000, month = number / 100 % 100, yy = number % 100
        guard let date = CivilDate(year: yy < 80 ? 2000 + yy : 1900 + yy, month: month, day: day) else {
            throw NMEAFieldError(field: "date", value: text)
        }
        return date
    }

    /// A single-character status or mode field.
    static func character(_ text: Substring) -> Character? { text.first }
}
