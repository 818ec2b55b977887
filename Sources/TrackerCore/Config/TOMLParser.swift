/// A TOML 1.0 reader that remembers the line of every value.
///
/// We read our own rather than wrap a C++ library because every configuration error must name
/// the file, the line and the key, and the libraries at hand report positions only for syntax
/// errors. All of TOML 1.0 but dates — comments, `[tables]`, `[[arrays of tables]]`, dotted and
/// quoted keys, basic/literal/multi-line strings, integers (with `_`, hex, octal, binary),
/// floats (with `inf`/`nan`), booleans, arrays and inline tables — held to the letter of the
/// specification (the TOML project's conformance suite runs in `make test`): control
/// characters, malformed numbers, invalid UTF-8 and tables defined twice are refused with the
/// line. Dates and times are refused with a clear message: no tracker setting is a date.
///
/// Nesting is bounded (`maxDepth` levels of tables, dotted key parts and arrays together):
/// the parser and everything that walks its result recurse, and a hostile file nested
/// thousands deep would otherwise overflow a thread's stack instead of getting a located error.
public struct TOMLParser {
    /// Far beyond any configuration (trackerd's go three deep), far below any stack's limit.
    public static let maxDepth = 64

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    /// How deep the value being parsed sits: the key path that holds it plus open arrays.
    private var depth = 0

    /// Parse-time tables are references so `[a.b]` and `[[c]]` can reach into the tree.
    private final class Node {
        enum Entry {
            case value(TOMLValue)
            case table(Node)
            case tables([Node], line: Int)
        }
        /// How a table came to be, which decides what may still add to it (TOML 1.0, "Table").
        enum Origin {
            /// Named on the way to a deeper `[a.b.c]`: a later `[a.b]` may still define it.
            case implicit
            /// Defined by its own `[header]` (or the root): dotted keys elsewhere may not add to it.
            case header
            /// Made by a dotted key (`a.b = 1`): no `[header]` may define it afterwards.
            case dotted
            /// An inline table: closed for good.
            case inline
        }
        var keys: [String] = []
        var entries: [String: Entry] = [:]
        let line: Int
        /// Levels below the root, for the nesting bound.
        let depth: Int
        var origin: Origin

        init(line: Int, depth: Int, origin: Origin) {
            self.line = line
            self.depth = depth
            self.origin = origin
        }

        func set(_ key: String, _ entry: Entry) {
            if entries.updateValue(entry, forKey: key) == nil { keys.append(key) }
        }

        func freeze() -> TOMLTable {
            var table = TOMLTable(line: line)
            for key in keys {
                switch entries[key] {
                case nil: continue
                case .value(let value)?: table.set(key, value)
                case .table(let node)?: table.set(key, TOMLValue(.table(node.freeze()), line: node.line))
                case .tables(let nodes, let line)?:
                    table.set(key, TOMLValue(.array(nodes.map { TOMLValue(.table($0.freeze()), line: $0.line) }), line: line))
                }
            }
            return table
        }
    }

    public static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLTable {
        var parser = TOMLParser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }

    /// A file as read: it must be UTF-8 (TOML 1.0), checked before anything else.
    public static func parse(bytes: [UInt8]) throws(TOMLSyntaxError) -> TOMLTable {
        try checkUTF8(bytes)
        var parser = TOMLParser(bytes: bytes)
        return try parser.parseDocument()
    }

    /// The line of the first byte that is not UTF-8 (surrogates and overlong forms included).
    private static func checkUTF8(_ bytes: [UInt8]) throws(TOMLSyntaxError) {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var line = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
            case .emptyInput: return
            case .error: throw TOMLSyntaxError(line: line, message: "the file is not valid UTF-8 (TOML files must be)")
            }
        }
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: document

    private mutating func parseDocument() throws(TOMLSyntaxError) -> TOMLTable {
        let root = Node(line: 1, depth: 0, origin: .header)
        var current = root
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while true {
            skipWhitespace()
            guard let byte = peek() else { break }
            switch byte {
            case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                try endOfLine()
            case UInt8(ascii: "["):
                current = try parseHeader(root)
                try endOfLine()
            default:
                try parseKeyValue(into: current)
                try endOfLine()
            }
        }
        return root.freeze()
    }

    private mutating func parseHeader(_ root: Node) throws(TOMLSyntaxError) -> Node {
        let headerLine = line
        index += 1
        let isArray = peek() == UInt8(ascii: "[")
        if isArray { index += 1 }
        skipWhitespace()
        let path = try parseKey()
        skipWhitespace()
        try expect("]", "to close the table header")
        if isArray { try expect("]", "to close the array-of-tables header") }
        let name = path.joined(separator: ".")

        var node = root
        for key in path.dropLast() {
            node = try descend(node, key, headerLine, name, byHeader: true)
        }
        guard let last = path.last else { throw error(at: headerLine, "a table header needs a name") }
        if isArray {
            let element = Node(line: headerLine, depth: node.depth + 2, origin: .header)
            switch node.entries[last] {
            case nil: node.set(last, .tables([element], line: headerLine))
            case .tables(var nodes, let line)?:
                nodes.append(element)
                node.entries[last] = .tables(nodes, line: line)
            default: throw error(at: headerLine, "[[\(name)]] redefines '\(name)', which is not an array of tables")
            }
            return element
        }
        switch node.entries[last] {
        case nil:
            let table = Node(line: headerLine, depth: node.depth + 1, origin: .header)
            node.set(last, .table(table))
            return table
        case .table(let table)?:
            switch table.origin {
            case .implicit:
                table.origin = .header
                return table
            case .header: throw error(at: headerLine, "table [\(name)] is defined twice")
            case .dotted: throw error(at: headerLine, "table [\(name)] is defined twice (by dotted keys at line \(table.line))")
            case .inline: throw error(at: headerLine, "table [\(name)] is defined twice (as an inline table at line \(table.line))")
            }
        default:
            throw error(at: headerLine, "[\(name)] redefines the key '\(name)'")
        }
    }

    /// One step down a key path. A header may pass through any table and into the latest of
    /// an array of tables; a dotted key only through tables that dotted keys made (or that a
    /// deeper header only named): it may not add to a table a `[header]` defined.
    private func descend(_ node: Node, _ key: String, _ line: Int, _ name: String, byHeader: Bool) throws(TOMLSyntaxError) -> Node {
        switch node.entries[key] {
        case nil:
            guard node.depth < Self.maxDepth else { throw error(at: line, "'\(name)' nests deeper than \(Self.maxDepth) levels") }
            let table = Node(line: line, depth: node.depth + 1, origin: byHeader ? .implicit : .dotted)
            node.set(key, .table(table))
            return table
        case .table(let table)?:
            switch table.origin {
            case .inline: throw error(at: line, "'\(key)' is an inline table and cannot be extended")
            case .header where !byHeader:
                throw error(at: line, "the dotted key '\(name)' adds to the table '\(key)' defined at line \(table.line); add it under that table's header")
            case .implicit where !byHeader:
                table.origin = .dotted
            default: break
            }
            return table
        case .tables(let nodes, _)?:
            guard byHeader, let latest = nodes.last else {
                throw error(at: line, "the dotted key '\(name)' adds to '\(key)', an array of tables")
            }
            return latest
        case .value?:
            throw error(at: line, "'\(name)' extends '\(key)', which is not a table")
        }
    }

    private mutating func parseKeyValue(into node: Node) throws(TOMLSyntaxError) {
        let keyLine = line
        let path = try parseKey()
        let name = path.joined(separator: ".")
        guard node.depth + path.count <= Self.maxDepth else {
            throw error(at: keyLine, "'\(name.prefix(64))' nests deeper than \(Self.maxDepth) levels")
        }
        skipWhitespace()
        try expect("=", "after the key '\(name)'")
        skipWhitespace()
        let outer = depth
        depth = node.depth + path.count
        let value = try parseValue()
        depth = outer
        var target = node
        for key in path.dropLast() {
            target = try descend(target, key, keyLine, name, byHeader: false)
        }
        guard let last = path.last else { throw error(at: keyLine, "expected a key") }
        if target.entries[last] != nil {
            throw error(at: keyLine, "the key '\(name)' is defined twice")
        }
        if case .table(let table) = value.kind {
            let sealed = Node(line: value.line, depth: target.depth + 1, origin: .inline)
            for key in table.keys { if let entry = table[key] { sealed.set(key, .value(entry)) } }
            target.set(last, .table(sealed))
        } else {
            target.set(last, .value(value))
        }
    }

    // MARK: keys

    private mutating func parseKey() throws(TOMLSyntaxError) -> [String] {
        var path: [String] = []
        while true {
            guard path.count < Self.maxDepth else {
                throw error("a key of more than \(Self.maxDepth) dotted parts ('\(path.prefix(3).joined(separator: ".")). ...')")
            }
            skipWhitespace()
            guard let byte = peek() else { throw error("expected a key, found the end of the file") }
            if byte == UInt8(ascii: "\"") {
                path.append(try parseBasicString())
            } else if byte == UInt8(ascii: "'") {
                path.append(try parseLiteralString())
            } else {
                let start = index
                while let b = peek(), Self.isBareKeyByte(b) { index += 1 }
                if start == index { throw error("expected a key, found \(describe(byte))") }
                path.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
            skipWhitespace()
            if peek() == UInt8(ascii: ".") { index += 1 } else { return path }
        }
    }

    private static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    // MARK: values

    private mutating func parseValue() throws(TOMLSyntaxError) -> TOMLValue {
        let valueLine = line
        guard let byte = peek() else { throw error("expected a value, found the end of the file") }
        switch byte {
        case UInt8(ascii: "\""):
            if lookingAt("\"\"\"") { return TOMLValue(.string(try parseMultilineBasicString()), line: valueLine) }
            return TOMLValue(.string(try parseBasicString()), line: valueLine)
        case UInt8(ascii: "'"):
            if lookingAt("'''") { return TOMLValue(.string(try parseMultilineLiteralString()), line: valueLine) }
            return TOMLValue(.string(try parseLiteralString()), line: valueLine)
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "{"):
            return try parseInlineTable()
        default:
            guard Self.startsScalar(byte) else { throw error("expected a value, found \(describe(byte))") }
            let start = index
            while let b = peek(), !Self.endsScalar(b) { index += 1 }
            let token = String(decoding: bytes[start..<index], as: UTF8.self)
            if token.isEmpty { throw error("expected a value, found \(describe(byte))") }
            return TOMLValue(try scalar(token), line: valueLine)
        }
    }

    private static func startsScalar(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
            || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    private static func endsScalar(_ b: UInt8) -> Bool {
        b == UInt8(ascii: ",") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}") || b == UInt8(ascii: "#")
            || b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")
    }

    private func scalar(_ token: String) throws(TOMLSyntaxError) -> TOMLValue.Kind {
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        let utf8 = Array(token.utf8)
        if utf8.count >= 10, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-") {
            throw error("dates are not used in trackerd's configuration: \(token)")
        }
        if utf8.count >= 5, utf8[2] == UInt8(ascii: ":") {
            throw error("dates are not used in trackerd's configuration (nor times): \(token)")
        }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where token.hasPrefix(prefix) {
            let digits = Array(token.utf8.dropFirst(2))
            guard Self.isDigitRun(digits[...], radix: radix) else { throw error("'\(token)' is not a valid integer") }
            guard let value = Int64(Self.withoutUnderscores(digits[...]), radix: radix) else {
                throw error("'\(token)' is out of range for a 64-bit integer")
            }
            return .integer(value)
        }
        guard let number = Self.decimal(Array(token.utf8)) else { throw error(Self.whyNotANumber(token)) }
        if number.isInteger {
            guard let value = Int64(number.text) else { throw error("'\(token)' is out of range for a 64-bit integer") }
            return .integer(value)
        }
        guard let value = Double(number.text) else { throw error("'\(token)' is not a valid float") }
        return .float(value)
    }

    /// TOML's decimal integer or float: `[+-]` then `0` or a digit run without a leading zero,
    /// then `.digits` and/or `e[+-]digits`; underscores only between two digits. Returns the
    /// number without underscores, or nil when `token` is not one.
    private static func decimal(_ token: [UInt8]) -> (text: String, isInteger: Bool)? {
        var i = 0
        if i < token.count, token[i] == UInt8(ascii: "+") || token[i] == UInt8(ascii: "-") { i += 1 }
        func run(leadingZero: Bool) -> Bool {
            let start = i
            while i < token.count, isDigit(token[i]) || token[i] == UInt8(ascii: "_") { i += 1 }
            let digits = token[start..<i]
            guard isDigitRun(digits, radix: 10) else { return false }
            return leadingZero || digits.count == 1 || digits.first != UInt8(ascii: "0")
        }
        guard run(leadingZero: false) else { return nil }
        var isInteger = true
        if i < token.count, token[i] == UInt8(ascii: ".") {
            i += 1
            isInteger = false
            guard run(leadingZero: true) else { return nil }
        }
        if i < token.count, token[i] == UInt8(ascii: "e") || token[i] == UInt8(ascii: "E") {
            i += 1
            isInteger = false
            if i < token.count, token[i] == UInt8(ascii: "+") || token[i] == UInt8(ascii: "-") { i += 1 }
            guard run(leadingZero: true) else { return nil }
        }
        guard i == token.count else { return nil }
        return (withoutUnderscores(token[...]), isInteger)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// The operator's reading of a token that is neither a number nor a keyword.
    private static func whyNotANumber(_ token: String) -> String {
        let numeric = token.allSatisfy { $0.isASCII && ($0.isNumber || "+-_.eE".contains($0)) } && token.contains { $0.isNumber }
        guard numeric else { return "'\(token)' is not a valid value (strings need quotes)" }
        if token.hasPrefix("_") || token.hasSuffix("_") || token.contains("__")
            || ["_.", "._", "_e", "e_", "_E", "E_", "+_", "-_"].contains(where: token.contains) {
            return "'\(token)' has a misplaced underscore (only between two digits)"
        }
        let digits = token.drop { $0 == "+" || $0 == "-" }
        if digits.count > 1, digits.hasPrefix("0"), digits.dropFirst().first?.isNumber == true {
            return "'\(token)' is not a valid \(token.contains(".") ? "float" : "integer") (no leading zeros)"
        }
        return "'\(token)' is not a valid number (write 1_000, 0.5, 1e-3 or 0x1F)"
    }

    /// Digits of `radix`, at least one, each underscore between two digits.
    private static func isDigitRun(_ digits: ArraySlice<UInt8>, radix: Int) -> Bool {
        guard let first = digits.first, let last = digits.last, first != UInt8(ascii: "_"), last != UInt8(ascii: "_") else { return false }
        var previous: UInt8 = 0
        for b in digits {
            if b == UInt8(ascii: "_") {
                if previous == UInt8(ascii: "_") { return false }
            } else {
                let value: Int
                switch b {
                case 0x30...0x39: value = Int(b - 0x30)
                case 0x61...0x66: value = Int(b - 0x61 + 10)
                case 0x41...0x46: value = Int(b - 0x41 + 10)
                default: return false
                }
                if value >= radix { return false }
            }
            previous = b
        }
        return true
    }

    private static func withoutUnderscores(_ digits: ArraySlice<UInt8>) -> String {
        String(decoding: digits.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
    }

    private mutating func parseArray() throws(TOMLSyntaxError) -> TOMLValue {
        let arrayLine = line
        guard depth < Self.maxDepth else { throw error("arrays and tables nest deeper than \(Self.maxDepth) levels") }
        depth += 1
        defer { depth -= 1 }
        index += 1
        var elements: [TOMLValue] = []
        while true {
            try skipWhitespaceCommentsAndNewlines()
            guard let byte = peek() else { throw error(at: arrayLine, "the array opened here is never closed") }
            if byte == UInt8(ascii: "]") { index += 1; break }
            elements.append(try parseValue())
            try skipWhitespaceCommentsAndNewlines()
            if peek() == nil { throw error(at: arrayLine, "the array opened here is never closed") }
            if peek() == UInt8(ascii: ",") { index += 1; continue }
            try expect("]", "or ',' between array elements")
            break
        }
        return TOMLValue(.array(elements), line: arrayLine)
    }

    private mutating func parseInlineTable() throws(TOMLSyntaxError) -> TOMLValue {
        let tableLine = line
        guard depth < Self.maxDepth else { throw error("arrays and tables nest deeper than \(Self.maxDepth) levels") }
        index += 1
        let node = Node(line: tableLine, depth: depth, origin: .dotted)
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return TOMLValue(.table(node.freeze()), line: tableLine)
        }
        while true {
            skipWhitespace()
            try parseKeyValue(into: node)
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { index += 1; continue }
            try expect("}", "or ',' in the inline table")
            break
        }
        return TOMLValue(.table(node.freeze()), line: tableLine)
    }

    // MARK: strings

    private mutating func parseBasicString() throws(TOMLSyntaxError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek(), byte != UInt8(ascii: "\n") else { throw error("a string is not closed on its line") }
            try checkStringByte(byte, multiline: false)
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") { try escape(into: &out) } else { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func parseMultilineBasicString() throws(TOMLSyntaxError) -> String {
        let startLine = line
        index += 3
        if peek() == UInt8(ascii: "\r") { index += 1 }
        if peek() == UInt8(ascii: "\n") { index += 1; line += 1 }
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error(at: startLine, "the multi-line string opened here is never closed") }
            if lookingAt("\"\"\"") {
                index += 3
                // Up to two quotes just before the closing three belong to the string.
                for _ in 0..<2 where peek() == UInt8(ascii: "\"") { out.append(UInt8(ascii: "\"")); index += 1 }
                break
            }
            try checkStringByte(byte, multiline: true)
            index += 1
            if byte == UInt8(ascii: "\n") { line += 1 }
            if byte == UInt8(ascii: "\\") {
                var probe = index
                while probe < bytes.count, bytes[probe] == 0x20 || bytes[probe] == 0x09 || bytes[probe] == 0x0D { probe += 1 }
                if probe < bytes.count, bytes[probe] == 0x0A {
                    index = probe
                    while let b = peek(), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                        if b == 0x0A { line += 1 }
                        index += 1
                    }
                } else {
                    try escape(into: &out)
                }
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func parseLiteralString() throws(TOMLSyntaxError) -> String {
        index += 1
        let start = index
        while let byte = peek(), byte != UInt8(ascii: "'") {
            if byte == UInt8(ascii: "\n") { throw error("a string is not closed on its line") }
            try checkStringByte(byte, multiline: false)
            index += 1
        }
        guard peek() != nil else { throw error("a string is not closed on its line") }
        defer { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func parseMultilineLiteralString() throws(TOMLSyntaxError) -> String {
        let startLine = line
        index += 3
        if peek() == UInt8(ascii: "\r") { index += 1 }
        if peek() == UInt8(ascii: "\n") { index += 1; line += 1 }
        let start = index
        while !lookingAt("'''") {
            guard let byte = peek() else { throw error(at: startLine, "the multi-line string opened here is never closed") }
            try checkStringByte(byte, multiline: true)
            if byte == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }
        var end = index
        index += 3
        // Up to two apostrophes just before the closing three belong to the string.
        for _ in 0..<2 where peek() == UInt8(ascii: "'") { index += 1; end += 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private mutating func escape(into out: inout [UInt8]) throws(TOMLSyntaxError) {
        guard let code = peek() else { throw error("a string ends inside an escape") }
        index += 1
        switch code {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = code == UInt8(ascii: "u") ? 4 : 8
            guard index + count <= bytes.count,
                  let scalarValue = UInt32(String(decoding: bytes[index..<(index + count)], as: UTF8.self), radix: 16),
                  let scalar = Unicode.Scalar(scalarValue) else { throw error("invalid unicode escape in a string") }
            index += count
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw error("unknown escape '\\\(Character(Unicode.Scalar(code)))' in a string")
        }
    }

    // MARK: lexing

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    /// The byte at `index` (a CR) starts a CRLF pair.
    private var followedByLineFeed: Bool { index + 1 < bytes.count && bytes[index + 1] == 0x0A }

    /// Strings hold no control characters but tab (and, multi-line, LF and CRLF): they must be
    /// written as escapes.
    private func checkStringByte(_ byte: UInt8, multiline: Bool) throws(TOMLSyntaxError) {
        guard byte < 0x20 || byte == 0x7F else { return }
        if byte == 0x09 || (multiline && (byte == 0x0A || (byte == 0x0D && followedByLineFeed))) { return }
        throw error("control character \(describe(byte)) in a string (write it as an escape, e.g. \\u0000)")
    }

    private func lookingAt(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return text.withUTF8Buffer { Array($0) == Array(bytes[index..<(index + count)]) }
    }

    private mutating func skipWhitespace() {
        while let b = peek(), b == 0x20 || b == 0x09 { index += 1 }
    }

    private mutating func skipComment() throws(TOMLSyntaxError) {
        guard peek() == UInt8(ascii: "#") else { return }
        while let b = peek(), b != 0x0A {
            if (b < 0x20 && b != 0x09 && b != 0x0D) || b == 0x7F || (b == 0x0D && !followedByLineFeed) {
                throw error("control character \(describe(b)) in a comment")
            }
            index += 1
        }
    }

    private mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLSyntaxError) {
        while true {
            skipWhitespace()
            try skipComment()
            if peek() == 0x0D {
                guard followedByLineFeed else { throw error("a carriage return not followed by a line feed") }
                index += 1
            }
            if peek() == 0x0A { index += 1; line += 1 } else { return }
        }
    }

    /// After a key/value or header only a comment may follow on the same line.
    private mutating func endOfLine() throws(TOMLSyntaxError) {
        skipWhitespace()
        try skipComment()
        if peek() == 0x0D {
            guard followedByLineFeed else { throw error("a carriage return not followed by a line feed") }
            index += 1
        }
        guard let byte = peek() else { return }
        guard byte == 0x0A else { throw error("unexpected \(describe(byte)) after a value (one key per line)") }
        index += 1
        line += 1
    }

    private mutating func expect(_ character: Character, _ context: String) throws(TOMLSyntaxError) {
        guard let byte = peek() else { throw error("expected '\(character)' \(context), found the end of the file") }
        guard byte == character.asciiValue else { throw error("expected '\(character)' \(context), found \(describe(byte))") }
        index += 1
    }

    private func describe(_ byte: UInt8) -> String {
        switch byte {
        case 0x0A, 0x0D: "the end of the line"
        case 0x20...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
        default: "byte 0x\(String(byte, radix: 16))"
        }
    }

    private func error(_ message: String) -> TOMLSyntaxError { TOMLSyntaxError(line: line, message: message) }
    private func error(at line: Int, _ message: String) -> TOMLSyntaxError { TOMLSyntaxError(line: line, message: message) }
}
