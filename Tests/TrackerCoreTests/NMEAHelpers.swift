@testable import TrackerCore

/// `$body*hh` with the right checksum.
func sentence(_ body: String) -> String {
    let sum = body.utf8.reduce(UInt8(0), ^)
    let hex = String(sum, radix: 16, uppercase: true)
    return "$" + body + "*" + (hex.count == 1 ? "0" + hex : hex)
}

func decode(_ lines: [String], separator: String = "\r\n") -> (fixes: [Fix], statistics: NMEAStatistics) {
    NMEADecoder.decode(Array(lines.joined(separator: separator).utf8) + Array(separator.utf8))
}

func parse(_ line: String) -> NMEASentence.LineResult {
    NMEASentence.parse(line: Array(line.utf8)[...])
}
