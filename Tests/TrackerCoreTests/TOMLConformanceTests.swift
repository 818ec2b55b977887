import Foundation
import Testing
import TestSupport
@testable import TrackerCore

/// The TOML project's conformance cases (toml-lang/toml-test, TOML 1.0.0; ../shared/testdata/
/// toml-test): every invalid document is refused with a line, every valid one decodes to the
/// value its .json gives. Date-time documents may instead be refused with the message that
/// trackerd's configuration uses no dates.
@Suite struct TOMLConformanceTests {
    static var root: URL { SharedTestData.root.appendingPathComponent("toml-test") }

    static func cases(_ kind: String) -> [String] {
        let listing = (try? String(contentsOf: root.appendingPathComponent("files-toml-1.0.0"), encoding: .utf8)) ?? ""
        return listing.split(separator: "\n").map(String.init).filter { $0.hasPrefix(kind + "/") && $0.hasSuffix(".toml") }.sorted()
    }

    @Test func theSuiteIsThere() {
        #expect(Self.cases("invalid").count > 400, "toml-test's invalid cases in \(Self.root.path)")
        #expect(Self.cases("valid").count > 150)
    }

    /// The comparison itself can fail: a wrong value, type or key is a mismatch.
    @Test func theComparisonTellsValuesApart() throws {
        let table = try TOMLParser.parse("a = 1\nb = 0.5\nc = 'x'")
        let good: [String: Any] = ["a": ["type": "integer", "value": "1"], "b": ["type": "float", "value": "0.5"],
                                   "c": ["type": "string", "value": "x"]]
        #expect(Self.matches(.table(table), good))
        var wrong = good
        wrong["a"] = ["type": "integer", "value": "2"]
        #expect(!Self.matches(.table(table), wrong))
        wrong = good
        wrong["b"] = ["type": "integer", "value": "0"]
        #expect(!Self.matches(.table(table), wrong))
        wrong = good
        wrong["d"] = ["type": "string", "value": ""]
        #expect(!Self.matches(.table(table), wrong))
    }

    /// A configuration file that is not UTF-8 is refused at the line of the bad byte.
    @Test func aFileThatIsNotUTF8IsRefusedWithItsLine() {
        #expect(throws: ConfigErrors.self) { try TrackerConfig.parse(bytes: Array("[gps]\n# caf".utf8) + [0xE9, 0x0A], file: "t.toml") }
        do {
            _ = try TrackerConfig.parse(bytes: Array("[gps]\n# caf".utf8) + [0xE9, 0x0A], file: "t.toml")
        } catch {
            #expect(error.errors.first?.description.hasPrefix("t.toml:2:") == true, "\(error)")
        }
    }

    @Test func everyInvalidDocumentIsRefusedWithALine() throws {
        var accepted: [String] = []
        for path in Self.cases("invalid") {
            let bytes = Array(try Data(contentsOf: Self.root.appendingPathComponent(path)))
            do {
                _ = try TOMLParser.parse(bytes: bytes)
                accepted.append(path)
            } catch {
                let lines = bytes.filter { $0 == 0x0A }.count + 1
                #expect((1...lines).contains(error.line), "\(path): line \(error.line) of \(lines)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(accepted.isEmpty, "accepted \(accepted.count): \(accepted.joined(separator: " "))")
    }

    @Test func everyValidDocumentDecodesToItsValue() throws {
        var wrong: [String] = []
        for path in Self.cases("valid") {
            let url = Self.root.appendingPathComponent(path)
            let bytes = Array(try Data(contentsOf: url))
            let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: url.deletingPathExtension().appendingPathExtension("json")),
                                                            options: [.fragmentsAllowed])
            do {
                let table = try TOMLParser.parse(bytes: bytes)
                if !Self.matches(.table(table), expected) { wrong.append("\(path): decoded \(Self.tagged(.table(table)))") }
            } catch {
                let dated = Self.hasDates(expected)
                if !(dated && error.message.contains("dates are not used in trackerd's configuration")) {
                    wrong.append("\(path): \(error)")
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) wrong:\n\(wrong.joined(separator: "\n"))")
    }

    /// The date-time documents are refused by name, not by accident.
    @Test func datesAreRefusedWithTheReason() throws {
        let dated = try Self.cases("valid").filter { path in
            let url = Self.root.appendingPathComponent(path).deletingPathExtension().appendingPathExtension("json")
            return Self.hasDates(try JSONSerialization.jsonObject(with: Data(contentsOf: url), options: [.fragmentsAllowed]))
        }
        #expect(dated.count >= 10)
        for path in dated {
            #expect(throws: TOMLSyntaxError.self, "\(path)") {
                try TOMLParser.parse(bytes: Array(try Data(contentsOf: Self.root.appendingPathComponent(path))))
            }
        }
    }

    static func hasDates(_ json: Any) -> Bool {
        if let object = json as? [String: Any] {
            if let type = object["type"] as? String, object["value"] is String, object.count == 2 {
                return ["datetime", "datetime-local", "date-local", "time-local"].contains(type)
            }
            return object.values.contains { hasDates($0) }
        }
        if let array = json as? [Any] { return array.contains { hasDates($0) } }
        return false
    }

    /// Our value against toml-test's tagged JSON (`{"type":"integer","value":"1"}` for scalars).
    static func matches(_ value: TOMLValue.Kind, _ json: Any) -> Bool {
        switch value {
        case .table(let table):
            guard let object = json as? [String: Any], Set(object.keys) == Set(table.keys) else { return false }
            return table.keys.allSatisfy { key in table[key].map { matches($0.kind, object[key] as Any) } ?? false }
        case .array(let elements):
            guard let array = json as? [Any], array.count == elements.count else { return false }
            return zip(elements, array).allSatisfy { matches($0.kind, $1) }
        case .string(let text): return tag(json).map { $0 == ("string", text) } ?? false
        case .boolean(let flag): return tag(json).map { $0 == ("bool", flag ? "true" : "false") } ?? false
        case .integer(let number):
            guard let (type, text) = tag(json), type == "integer" else { return false }
            return Int64(text) == number
        case .float(let number):
            guard let (type, text) = tag(json), type == "float" else { return false }
            switch text {
            case "nan", "+nan", "-nan": return number.isNaN
            case "inf", "+inf": return number == .infinity
            case "-inf": return number == -.infinity
            default:
                guard let expected = Double(text) else { return false }
                return expected == number && expected.sign == number.sign
            }
        }
    }

    static func tag(_ json: Any) -> (String, String)? {
        guard let object = json as? [String: Any], object.count == 2, let type = object["type"] as? String,
              let value = object["value"] as? String else { return nil }
        return (type, value)
    }

    /// For failure messages.
    static func tagged(_ value: TOMLValue.Kind) -> String {
        switch value {
        case .table(let table): "{" + table.keys.map { "\($0): \(table[$0].map { tagged($0.kind) } ?? "?")" }.joined(separator: ", ") + "}"
        case .array(let elements): "[" + elements.map { tagged($0.kind) }.joined(separator: ", ") + "]"
        case .string(let text): "string \(text.debugDescription)"
        case .boolean(let flag): "bool \(flag)"
        case .integer(let number): "integer \(number)"
        case .float(let number): "float \(number)"
        }
    }
}
