/// ZDA: UTC time and full date.
public struct ZDASentence: Sendable, Equatable {
    public var timeOfDay: Int?
    public var date: CivilDate?

    public init(_ s: NMEASentence) throws(NMEAFieldError) {
        timeOfDay = try NMEAField.timeOfDay(s[0])
        let day = try NMEAField.int(s[1], "day", 1...31), month = try NMEAField.int(s[2], "month", 1...12)
        let year = try NMEAField.int(s[3], "year", FixRanges.year)
        if let day, let month, let year {
            guard let date = CivilDate(year: year, month: month, day: day) else {
                throw NMEAFieldError(field: "date", value: s.fields[1...3].joined(separator: ",")[...])
            }
            self.date = date
        }
    }
}
