import Foundation
import Testing
import TestSupport

/// The udev rules: every line well-formed (keys, attribute names, operators, quoting) and each
/// receiver matched on the attributes it really has. (bookworm's udevadm has no `verify`; this
/// is the check, written against udev(7).)
@Suite struct UdevRulesTests {
    struct Pair: Equatable { let key: String; let op: String; let value: String }

    static let matchKeys: Set<String> = ["ACTION", "SUBSYSTEM", "KERNEL", "ATTRS", "SYMLINK", "ENV", "DRIVERS"]
    static let assignKeys: Set<String> = ["SYMLINK", "GROUP", "MODE", "TAG", "ENV", "GOTO", "LABEL"]

    static func parse(_ line: Substring) throws -> [Pair] {
        var pairs: [Pair] = []
        var rest = line[...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let op = ["==", "!=", "+=", "-=", ":=", "="].compactMap({ rest.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) else { break }
            let key = String(rest[..<op.lowerBound])
            let opText = String(rest[op])
            rest = rest[op.upperBound...]
            guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "unquoted value after \(key)"])
            }
            pairs.append(Pair(key: key, op: opText, value: String(rest[rest.index(after: rest.startIndex)..<close])))
            rest = rest[rest.index(after: close)...]
            guard rest.isEmpty || rest.first == "," else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "no comma after \(key)"])
            }
        }
        return pairs
    }

    static func rules(_ file: String) throws -> [[Pair]] {
        let text = try String(contentsOf: SharedTestData.repositoryRoot.appendingPathComponent("udev/" + file), encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { try parse($0) }
    }

    @Test(arguments: ["60-trackerd-gps.rules", "61-trackerd-rpi-uart.rules"])
    func everyLineIsWellFormed(file: String) throws {
        let all = try Self.rules(file)
        #expect(!all.isEmpty)
        var labels: Set<String> = [], gotos: Set<String> = []
        for rule in all {
            for pair in rule {
                let base = pair.key.split(separator: "{").first.map(String.init) ?? pair.key
                if pair.op == "==" || pair.op == "!=" {
                    #expect(Self.matchKeys.contains(base), "\(file): \(pair.key) cannot be matched")
                } else {
                    #expect(Self.assignKeys.contains(base), "\(file): \(pair.key) cannot be assigned")
                }
                if pair.key.contains("{") { #expect(pair.key.hasSuffix("}") && pair.key.count > base.count + 2) }
                if base == "LABEL" { labels.insert(pair.value) }
                if base == "GOTO" { gotos.insert(pair.value) }
                if base == "MODE" { #expect(pair.value == "0660") }
                if base == "GROUP" { #expect(pair.value == "dialout") }
            }
            if rule.contains(where: { $0.key == "SYMLINK" && $0.op == "+=" }) {
                #expect(rule.contains(Pair(key: "TAG", op: "+=", value: "systemd")), "\(file): a GPS device is tagged for systemd")
                #expect(rule.contains { $0.key == "GROUP" } && rule.contains { $0.key == "MODE" })
                #expect(rule.contains { $0.value.hasPrefix("gps") && $0.key == "SYMLINK" })
            }
        }
        #expect(gotos.isSubset(of: labels), "every GOTO has its LABEL")
    }

    /// Which rule matches which receiver, on the attributes each one has.
    @Test(arguments: [
        ("u-blox 8", "1546", "01a8", nil as String?),
        ("u-blox 9", "1546", "01a9", nil),
        ("BU-353 (PL2303)", "067b", "2303", nil),
        ("CP210x puck", "10c4", "ea60", nil),
        ("Quectel EC25 NMEA port", "2c7c", "0125", "01"),
    ])
    func eachReceiverIsMatched(name: String, vendor: String, product: String, interface: String?) throws {
        let all = try Self.rules("60-trackerd-gps.rules")
        let rule = all.first { rule in
            rule.contains(Pair(key: "ATTRS{idVendor}", op: "==", value: vendor))
                && rule.contains { $0.key == "ATTRS{idProduct}" && $0.value.split(separator: "|").contains(Substring(product)) }
        }
        let matched = try #require(rule, "\(name) has no rule")
        #expect(matched.contains(Pair(key: "SUBSYSTEM", op: "==", value: "tty")))
        if let interface {
            #expect(matched.contains(Pair(key: "ATTRS{bInterfaceNumber}", op: "==", value: interface)), "only the NMEA interface")
        }
        #expect(try Self.rules("60-trackerd-gps.rules").contains { $0.contains(Pair(key: "SUBSYSTEM", op: "==", value: "gnss")) })
    }
}
