/// Reads typed settings out of TOML tables, collecting located errors instead of stopping at
/// the first, and flags every key it was never asked for as unknown.
final class ConfigReader {
    let file: String
    private(set) var errors: [ConfigError] = []
    /// What works but should be written differently (deprecated keys).
    private(set) var warnings: [ConfigError] = []

    init(file: String) {
        self.file = file
    }

    func fail(_ line: Int, _ key: String?, _ message: String) {
        errors.append(ConfigError(file: file, line: line, key: key, message: message))
    }

    func warn(_ line: Int, _ key: String?, _ message: String) {
        warnings.append(ConfigError(file: file, line: line, key: key, message: message))
    }

    /// A `[section]` of the root table, or an empty one when the file does not have it.
    func section(_ root: TOMLTable, _ name: String) -> TOMLTable {
        guard let value = root[name] else { return TOMLTable(line: root.line) }
        guard case .table(let table) = value.kind else {
            fail(value.line, name, "must be a [\(name)] section, found \(value.typeName)")
            return TOMLTable(line: value.line)
        }
        return table
    }

    func unknownKeys(in table: TOMLTable, section: String?, known: [String]) {
        for key in table.keys where !known.contains(key) {
            guard let value = table[key] else { continue }
            let dotted = section.map { "\($0).\(key)" } ?? key
            if section == nil, case .table = value.kind {
                fail(value.line, "[\(key)]", "unknown section; known sections: " + known.map { "[\($0)]" }.joined(separator: ", "))
            } else {
                fail(value.line, dotted, "unknown key" + (section.map { "; [\($0)] takes " + known.joined(separator: ", ") } ?? ""))
            }
        }
    }

    func string(_ table: TOMLTable, _ section: String, _ key: String) -> (String, line: Int)? {
        guard let value = table[key] else { return nil }
        guard case .string(let text) = value.kind else {
            fail(value.line, "\(section).\(key)", "expected a string, found \(value.typeName)")
            return nil
        }
        return (text, value.line)
    }

    func integer(_ table: TOMLTable, _ section: String, _ key: String, range: ClosedRange<Int64>) -> Int64? {
        guard let value = table[key] else { return nil }
        guard case .integer(let number) = value.kind else {
            fail(value.line, "\(section).\(key)", "expected an integer, found \(value.typeName)")
            return nil
        }
        guard range.contains(number) else {
            fail(value.line, "\(section).\(key)", "\(number) is out of range (\(range.lowerBound) to \(range.upperBound))")
            return nil
        }
        return number
    }

    /// A number in seconds or a factor; an integer is accepted where a float is expected.
    func number(_ table: TOMLTable, _ section: String, _ key: String, range: ClosedRange<Double>) -> Double? {
        guard let value = table[key] else { return nil }
        let number: Double
        switch value.kind {
        case .float(let x): number = x
        case .integer(let n): number = Double(n)
        default:
            fail(value.line, "\(section).\(key)", "expected a number, found \(value.typeName)")
            return nil
        }
        guard number.isFinite, range.contains(number) else {
            fail(value.line, "\(section).\(key)", "\(number) is out of range (\(range.lowerBound) to \(range.upperBound))")
            return nil
        }
        return number
    }

    func line(of key: String, in table: TOMLTable) -> Int { table[key]?.line ?? table.line }
}
