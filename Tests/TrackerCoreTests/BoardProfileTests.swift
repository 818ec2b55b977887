import Foundation
import Testing
import TestSupport
@testable import TrackerCore

/// boards/*.toml: each profile readable, its [gps] section valid trackerd configuration, and every
/// receiver init command carrying a correct checksum (NMEA XOR, UBX Fletcher-8).
@Suite struct BoardProfileTests {
    static var directory: URL { SharedTestData.repositoryRoot.appendingPathComponent("boards") }

    static func profiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".toml") }.sorted()
    }

    static func strings(_ table: TOMLTable, _ key: String) -> [String] {
        guard case .array(let items)? = table[key]?.kind else { return [] }
        return items.compactMap { if case .string(let s) = $0.kind { s } else { nil } }
    }

    @Test func theFiveSupportedBoardsHaveProfiles() throws {
        #expect(try Self.profiles() == ["rpi-adafruit-gps-hat.toml", "rpi-quectel-ec25.toml", "rpi-ublox-uart.toml",
                                         "rpi-ublox-usb.toml", "rpi-zero2w-waveshare-l76x.toml"])
    }

    @Test(arguments: try profiles())
    func profileIsValidAndEveryInitCommandChecksums(file: String) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
        let root = try TOMLParser.parse(text)
        #expect(root["name"]?.kind == .string(String(file.dropLast(5))))
        guard case .table(let gps)? = root["gps"]?.kind else { Issue.record("\(file): no [gps]"); return }
        // The [gps] section is what goes into trackerd.toml: it must be valid there.
        var section = "[gps]\n"
        for key in gps.keys {
            switch gps[key]!.kind {
            case .string(let s): section += "\(key) = \"\(s)\"\n"
            case .integer(let n): section += "\(key) = \(n)\n"
            default: break
            }
        }
        let config = try TrackerConfig.parse(section, file: file)
        #expect(config.gps.source == .serial)
        _ = Self.strings(root, "config_txt")

        guard case .table(let initTable)? = root["init"]?.kind else { Issue.record("\(file): no [init]"); return }
        let nmea = Self.strings(initTable, "nmea"), ubx = Self.strings(initTable, "ubx"), at = Self.strings(initTable, "at")
        #expect(!(nmea + ubx + at).isEmpty, "\(file) initialises its receiver")
        for command in nmea {
            guard case .sentence = NMEASentence.parse(line: Array(command.utf8)[...]) else {
                Issue.record("\(file): \(command) has a wrong checksum or framing")
                continue
            }
        }
        for frame in ubx {
            let bytes = frame.split(separator: " ").compactMap { UInt8($0, radix: 16) }
            #expect(bytes.count >= 8 && bytes[0] == 0xB5 && bytes[1] == 0x62, "\(file): \(frame) is not a UBX frame")
            let length = Int(bytes[4]) | Int(bytes[5]) << 8
            #expect(bytes.count == 8 + length, "\(file): \(frame) length field")
            var a: UInt8 = 0, b: UInt8 = 0
            for byte in bytes[2..<(bytes.count - 2)] { a &+= byte; b &+= a }
            #expect(bytes[bytes.count - 2] == a && bytes[bytes.count - 1] == b, "\(file): \(frame) Fletcher checksum")
        }
        if !at.isEmpty {
            #expect(initTable["at_port"] != nil, "\(file): AT commands need an at_port")
            #expect(at.allSatisfy { $0.hasPrefix("AT") })
        }
    }
}
