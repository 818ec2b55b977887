import Foundation
import Testing
import TestSupport
@testable import TrackerCore

/// No input may crash the parser: random bytes, and real captures mangled the ways serial
/// lines mangle them (flipped bits, dropped and duplicated bytes, cut lines, binary bursts).
/// Every fix that still comes out must be a sane one.
@Suite struct NMEAFuzzTests {
    static func checkSane(_ fixes: [Fix]) {
        for fix in fixes where fix.hasPosition {
            #expect((-90...90).contains(fix.latitude!) && (-180...180).contains(fix.longitude!))
            #expect(fix.mode >= .twoD)
            if let track = fix.track { #expect((0..<360).contains(track)) }
        }
        for fix in fixes where !fix.hasPosition {
            #expect(fix.latitude == nil && fix.longitude == nil)
        }
    }

    @Test(arguments: 1...8)
    func randomBytes(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let alphabet = Array("$!*,.0123456789ABCDEFGNPRSVW\r\n".utf8)
        let bytes = (0..<200_000).map { _ in
            Bool.random(using: &random) ? UInt8.random(in: 0...255, using: &random) : alphabet.randomElement(using: &random)!
        }
        let (fixes, stats) = NMEADecoder.decode(bytes)
        Self.checkSane(fixes)
        #expect(stats.rejectedLines > 0)
    }

    @Test(arguments: 1...6)
    func mangledCaptures(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        var bytes: [UInt8] = []
        for log in try SharedTestData.gpsdLogs() { bytes += try Data(contentsOf: log) }
        var mangled: [UInt8] = []
        mangled.reserveCapacity(bytes.count)
        for byte in bytes {
            switch Int.random(in: 0..<1000, using: &random) {
            case 0: mangled.append(byte ^ (1 << UInt8.random(in: 0...7, using: &random)))
            case 1: break
            case 2: mangled += [byte, byte]
            case 3: mangled += (0..<Int.random(in: 1...2000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            case 4: mangled.append(0x0A)
            default: mangled.append(byte)
            }
        }
        let (fixes, stats) = NMEADecoder.decode(mangled)
        Self.checkSane(fixes)
        #expect(fixes.count > 100, "a lightly mangled capture still yields most fixes")
        #expect(stats.rejected[.badChecksum, default: 0] > 0)
    }
}
