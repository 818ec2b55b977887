/// Why a line from the receiver was not used. Every rejected line is counted under one reason,
/// so a field engineer can tell a noisy cable (bad checksums) from a wrong baud rate (garbage).
public enum NMEARejection: String, Sendable, CaseIterable, Hashable, Comparable {
    /// The `*hh` checksum does not match the sentence.
    case badChecksum = "bad-checksum"
    /// The line ends before its `*hh` checksum: cut off in transit or by a buffer.
    case truncated
    /// Bytes that cannot be NMEA: no `$`/`!` start, or non-printable characters.
    case garbage
    /// Longer than `NMEALineFramer.maxLineLength` without a line end.
    case tooLong = "too-long"
    /// The checksum is right but a field cannot be read (a latitude of "12x4.5", a month 13).
    case malformed

    public static func < (lhs: NMEARejection, rhs: NMEARejection) -> Bool { lhs.rawValue < rhs.rawValue }
}
