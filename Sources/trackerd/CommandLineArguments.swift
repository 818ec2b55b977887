import TrackerCore

/// One command's command line, as its `Spec` declares it: `--name value` or `--name=value`
/// options, `--name` flags, positional arguments, and `-h`/`--help` anywhere. Ours rather than
/// swift-argument-parser's: that package brings Foundation with it, which was over half of the
/// stripped binary (issue 17), for seven commands with a few long options each.
struct CommandLineArguments {
    struct Option {
        let name: String
        /// The value's placeholder in the help ("file"); nil for a flag.
        let value: String?
        let help: String

        static func option(_ name: String, _ value: String, _ help: String) -> Option { Option(name: name, value: value, help: help) }
        static func flag(_ name: String, _ help: String) -> Option { Option(name: name, value: nil, help: help) }
    }

    struct Argument {
        let name: String
        let help: String
        /// What it is when left out; nil: it is required.
        let absent: String?
    }

    struct Spec {
        /// The words after `trackerd`: "run", "queue stats".
        let name: String
        let abstract: String
        var discussion = ""
        var options: [Option] = []
        var arguments: [Argument] = []
    }

    /// A command line the command cannot take: exit 64 (EX_USAGE) with the usage.
    struct UsageError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    let spec: Spec
    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var arguments: [String] = []
    private(set) var helpRequested = false

    init(_ words: ArraySlice<String>, spec: Spec) throws(UsageError) {
        self.spec = spec
        var rest = words[...]
        var onlyArguments = false
        while let word = rest.popFirst() {
            if onlyArguments || !word.hasPrefix("-") || word == "-" {
                arguments.append(word)
                continue
            }
            if word == "--" {
                onlyArguments = true
                continue
            }
            if word == "-h" || word == "--help" {
                helpRequested = true
                continue
            }
            guard word.hasPrefix("--") else { throw UsageError("unknown option '\(word)'") }
            let body = word.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
            guard let option = spec.options.first(where: { $0.name == name }) else { throw UsageError("unknown option '--\(name)'") }
            if option.value == nil {
                guard inline == nil else { throw UsageError("--\(name) takes no value") }
                flags.insert(name)
            } else if let inline {
                values[name] = inline
            } else if let next = rest.popFirst() {
                values[name] = next
            } else {
                throw UsageError("--\(name) needs a value (\(option.value ?? "value"))")
            }
        }
        if helpRequested { return }
        if arguments.count > spec.arguments.count {
            throw UsageError("unexpected argument '\(arguments[spec.arguments.count])'")
        }
        for (n, argument) in spec.arguments.enumerated() where n >= arguments.count {
            guard let absent = argument.absent else { throw UsageError("missing <\(argument.name)>") }
            arguments.append(absent)
        }
    }

    func value(_ name: String) -> String? { values[name] }
    func flag(_ name: String) -> Bool { flags.contains(name) }
    func argument(_ index: Int) -> String { arguments[index] }

    /// A number option within `range`, or nil when it is not given.
    func number(_ name: String, in range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let text = values[name] else { return nil }
        guard let number = Double(text), range.contains(number) else {
            throw UsageError("--\(name) must be a number from \(JSONWriter.format(range.lowerBound)) to \(JSONWriter.format(range.upperBound)), not '\(text)'")
        }
        return number
    }

    /// One of `choices`, or `absent` when it is not given.
    func choice(_ name: String, _ choices: [String], absent: String) throws(UsageError) -> String {
        guard let text = values[name] else { return absent }
        guard choices.contains(text) else { throw UsageError("--\(name) must be one of \(choices.joined(separator: ", ")), not '\(text)'") }
        return text
    }

    // MARK: - help

    static func usage(_ spec: Spec) -> String {
        var words = ["trackerd", spec.name]
        for option in spec.options { words.append(option.value.map { "[--\(option.name) <\($0)>]" } ?? "[--\(option.name)]") }
        for argument in spec.arguments { words.append(argument.absent == nil ? "<\(argument.name)>" : "[<\(argument.name)>]") }
        return words.joined(separator: " ")
    }

    static func help(_ spec: Spec) -> String {
        var text = "OVERVIEW: \(spec.abstract)\n"
        if !spec.discussion.isEmpty { text += "\n" + wrap(spec.discussion, indent: 0) + "\n" }
        text += "\nUSAGE: \(usage(spec))\n"
        if !spec.arguments.isEmpty {
            text += "\nARGUMENTS:\n"
            for argument in spec.arguments { text += entry("<\(argument.name)>", argument.help) }
        }
        text += "\nOPTIONS:\n"
        for option in spec.options { text += entry(option.value.map { "--\(option.name) <\($0)>" } ?? "--\(option.name)", option.help) }
        text += entry("-h, --help", "Show help information.")
        return text
    }

    /// "  --config <file>        The configuration file.", the help wrapped at 80 columns.
    static func entry(_ label: String, _ help: String) -> String {
        let column = 26
        let head = "  " + label
        let body = wrap(help, indent: column)
        let first = body.dropFirst(column)
        return head.count < column - 1
            ? head + String(repeating: " ", count: column - head.count) + first + "\n"
            : head + "\n" + body + "\n"
    }

    static func wrap(_ text: String, indent: Int, width: Int = 80) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && indent + line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        let pad = String(repeating: " ", count: indent)
        return lines.map { pad + $0 }.joined(separator: "\n")
    }
}

extension CommandLineArguments.Option {
    static let logLevel = CommandLineArguments.Option.option("log-level", "level", "trace, debug, info, notice, warning, error or critical.")
}

extension CommandLineArguments {
    /// `--log-level`, checked; "info" when it is not given.
    func logLevel() throws(UsageError) -> String {
        try choice("log-level", ["trace", "debug", "info", "notice", "warning", "error", "critical"], absent: "info")
    }
}
