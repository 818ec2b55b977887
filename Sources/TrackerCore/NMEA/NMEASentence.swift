/// One NMEA 0183 sentence whose framing and checksum were verified: `$GPGGA,...*hh`.
public struct NMEASentence: Sendable, Equatable {
    /// The address field as sent, e.g. `GPGGA`, `GNRMC`, `PMTK001`.
    public let address: String
    /// The fields after the address, without the checksum.
    public let fields: [Substring]

    /// `GP`, `GN`, `BD`, ... or `P` for a proprietary sentence.
    public var talker: Substring {
        isProprietary ? address.prefix(1) : address.prefix(2)
    }

    /// The sentence formatter (`GGA`, `RMC`, ...); for proprietary sentences, the rest of the address.
    public var formatter: Substring {
        isProprietary ? address.dropFirst() : address.dropFirst(2)
    }

    public var isProprietary: Bool { address.hasPrefix("P") }

    /// The result of reading one line.
    public enum LineResult: Equatable, Sendable {
        case sentence(NMEASentence, skippedLeadingBytes: Bool)
        /// A `#` comment line, as in gpsd's capture files.
        case comment
        case blank
        case rejected(NMEARejection)
    }

    /// Reads one line (without its line end).
    ///
    /// Bytes before the last `$` or `!` are skipped: after a sentence cut off mid-line or a
    /// burst of binary, the sentence that follows on the same line is still good.
    public static func parse(line: ArraySlice<UInt8>) -> LineResult {
        var end = line.endIndex
        while end > line.startIndex, isBlank(line[end - 1]) { end -= 1 }
        var begin = line.startIndex
        while begin < end, isBlank(line[begin]) { begin += 1 }
        if begin == end { return .blank }
        if line[begin] == UInt8(ascii: "#") { return .comment }

        guard let start = line[begin..<end].lastIndex(where: { $0 == UInt8(ascii: "$") || $0 == UInt8(ascii: "!") })
        else { return .rejected(.garbage) }
        let skipped = start != begin

        guard let star = line[start..<end].lastIndex(of: UInt8(ascii: "*")) else { return .rejected(.truncated) }
        let checksumDigits = line[(star + 1)..<end]
        if checksumDigits.count < 2 { return .rejected(.truncated) }
        guard checksumDigits.count == 2,
              let high = hexValue(checksumDigits[checksumDigits.startIndex]),
              let low = hexValue(checksumDigits[checksumDigits.startIndex + 1])
        else { return .rejected(.badChecksum) }

        let body = line[(start + 1)..<star]
        var sum: UInt8 = 0
        for byte in body {
            guard byte >= 0x20 && byte <= 0x7E else { return .rejected(.garbage) }
            sum ^= byte
        }
        guard sum == high << 4 | low else { return .rejected(.badChecksum) }

        // Printable ASCII only (checked above): the fields are cut at the commas' bytes, not
        // by Character, which costs a grapheme-breaking walk of every sentence.
        let text = String(decoding: body, as: UTF8.self)
        let utf8 = text.utf8
        let firstComma = utf8.firstIndex(of: UInt8(ascii: ",")) ?? utf8.endIndex
        let address = text[utf8.startIndex..<firstComma]
        guard address.utf8.count >= 3, address.utf8.count <= 10,
              address.utf8.allSatisfy({ isAlphanumeric($0) })
        else { return .rejected(.malformed) }
        var fields: [Substring] = []
        if firstComma != utf8.endIndex {
            fields.reserveCapacity(24)
            var start = utf8.index(after: firstComma)
            var index = start
            while index != utf8.endIndex {
                if utf8[index] == UInt8(ascii: ",") {
                    fields.append(text[start..<index])
                    start = utf8.index(after: index)
                }
                index = utf8.index(after: index)
            }
            fields.append(text[start..<utf8.endIndex])
        }
        return .sentence(NMEASentence(address: String(address), fields: fields), skippedLeadingBytes: skipped)
    }

    public init(address: String, fields: [Substring]) {
        self.address = address
        self.fields = fields
    }

    /// The field at `index`, or an empty field when the sentence is shorter (older NMEA versions
    /// omit trailing fields, which means "not given", not "malformed").
    public subscript(index: Int) -> Substring {
        index < fields.count ? fields[index] : ""
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x00 }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
