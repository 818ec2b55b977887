import Testing
@testable import TrackerCore

@Suite struct NMEASentenceTests {
    @Test func readsAValidSentence() throws {
        guard case .sentence(let s, let skipped) = parse("$GPGGA,080320.00,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,*52") else {
            Issue.record("not accepted")
            return
        }
        #expect(!skipped)
        #expect(s.address == "GPGGA")
        #expect(s.talker == "GP")
        #expect(s.formatter == "GGA")
        #expect(s.fields.count == 14)
        #expect(s[99] == "")
    }

    @Test func acceptsLowercaseChecksumAndEncapsulationStart() {
        let body = "GPGLL,4916.45,N,12311.12,W,225444,A"
        let sum = String(body.utf8.reduce(UInt8(0), ^), radix: 16, uppercase: false)
        if case .sentence = parse("$" + body + "*" + sum) {} else { Issue.record("lowercase checksum refused") }
        if case .sentence(let s, _) = parse(sentence("AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0").replacingOccurrences("$", "!")) {
            #expect(s.address == "AIVDM")
        } else { Issue.record("! sentence refused") }
    }

    @Test func namesEachRejection() {
        #expect(parse("$GPGGA,080320.00,1009.0014,N,01009.0016,E,1,09,0.9,42.0,M,47.0,M,,*53") == .rejected(.badChecksum))
        #expect(parse("$GPGGA,080320.00,1009.0014,N,0100") == .rejected(.truncated))
        #expect(parse("$GPGGA,080320.00*5") == .rejected(.truncated))
        #expect(parse("$GPGGA,080320.00*ZZ") == .rejected(.badChecksum))
        #expect(parse("hello world") == .rejected(.garbage))
        #expect(NMEASentence.parse(line: [0x24, 0x47, 0x50, 0xFF, 0x2A, 0x30, 0x30][...]) == .rejected(.garbage))
        #expect(parse(sentence("G")) == .rejected(.malformed))
        #expect(parse("# Name: a capture header") == .comment)
        #expect(parse("   ") == .blank)
    }

    @Test func skipsJunkBeforeTheLastSentenceStart() {
        let good = sentence("GNRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W")
        if case .sentence(_, let skipped) = parse(" " + good) { #expect(!skipped) } else { Issue.record("leading blank refused") }
        if case .sentence(let s, let skipped) = parse("$GPGGA,12351" + good) {
            #expect(skipped)
            #expect(s.address == "GNRMC")
        } else { Issue.record("sentence after a cut-off one refused") }
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
