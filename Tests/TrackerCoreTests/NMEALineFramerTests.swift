import Testing
@testable import TrackerCore

@Suite struct NMEALineFramerTests {
    func lines(_ text: [UInt8], chunk: Int = .max) -> [NMEALineFramer.Output] {
        var framer = NMEALineFramer()
        var out: [NMEALineFramer.Output] = []
        var i = 0
        while i < text.count {
            let end = min(text.count, i + chunk)
            framer.push(text[i..<end]) { out.append($0) }
            i = end
        }
        framer.finish { out.append($0) }
        return out
    }

    @Test func splitsOnEveryKindOfLineEnd() {
        let text = Array("a\nb\r\nc\r\r\nd\re".utf8)
        let expected: [NMEALineFramer.Output] = ["a", "b", "c", "d", "e"].map { .line(Array($0.utf8)[...]) }
        #expect(lines(text) == expected)
        #expect(lines(text, chunk: 1) == expected)
    }

    @Test func dropsAnOverlongLineOnceAndRecovers() {
        let long = [UInt8](repeating: 0x41, count: 5000)
        let out = lines(long + Array("\nok\n".utf8), chunk: 700)
        #expect(out == [.tooLong, .line(Array("ok".utf8)[...])])
    }

    @Test func keepsALineOfExactlyTheLimit() {
        let exact = [UInt8](repeating: 0x41, count: NMEALineFramer.maxLineLength)
        #expect(lines(exact + [0x0A]) == [.line(exact[...])])
    }
}
