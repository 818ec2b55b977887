/// The values a receiver can truthfully report. A number outside these is a corrupted or hostile
/// field, refused where it is read (an NMEA field, a gpsd report) so that nothing downstream —
/// time arithmetic, error estimates, JSON — ever sees it.
public enum FixRanges {
    public static let latitude: ClosedRange<Double> = -90...90
    public static let longitude: ClosedRange<Double> = -180...180
    /// Metres above mean sea level: below the Dead Sea shore with margin, up to a stratospheric
    /// balloon. Receivers stop at 18 km (CoCom) or 50 km; anything beyond is not a measurement.
    public static let altitude: ClosedRange<Double> = -1_000...100_000
    /// The geoid departs from the ellipsoid by -107 to +86 m.
    public static let geoidSeparation: ClosedRange<Double> = -200...200
    /// Knots; CoCom stops receivers at 1,000.
    public static let speedKnots: ClosedRange<Double> = 0...10_000
    public static let speedMetresPerSecond: ClosedRange<Double> = 0...(10_000 * 1852.0 / 3600.0)
    /// Degrees true; some receivers send 360.0 for north.
    public static let course: ClosedRange<Double> = 0...360
    /// NMEA caps dilutions at 99.9 (some receivers round to 99.99).
    public static let dilution: ClosedRange<Double> = 0...100
    public static let satellites: ClosedRange<Int> = 0...255
    public static let ggaQuality: ClosedRange<Int> = 0...9
    /// GPS time starts on 1980-01-06; a date after 2200 is a corrupted field, and keeping years
    /// small keeps millisecond arithmetic far from Int64's limits.
    public static let year: ClosedRange<Int> = 1980...2200
    /// Milliseconds since 1970 for the years above (2201-01-01T00:00:00Z excluded).
    public static let milliseconds: ClosedRange<Int64> = 315_964_800_000...7_289_654_399_999
}
