/// trackerd: the fleet-tracker daemon and its field tools, wiring the core to the adapters.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TrackerCore
import TrackerSystem

/// A command of trackerd: what its command line may hold, and what it does.
protocol TrackerSubcommand: Sendable {
    static var spec: CommandLineArguments.Spec { get }
    init(_ arguments: CommandLineArguments) throws(CommandLineArguments.UsageError)
    func run() async throws
}

/// How a command ends other than with success: the process's exit status (see `ExitStatus`).
struct ExitCode: Error, Equatable {
    let status: Int32
    init(_ status: Int32) { self.status = status }
    static let failure = ExitCode(1)
}

@main
enum TrackerCommand {
    static let abstract = "Fleet tracker daemon: GPS fixes from gpsd or a UART, published over MQTT."
    static let commands: [any TrackerSubcommand.Type] = [RunCommand.self, StatusCommand.self, ProvisionCommand.self, SimulateCommand.self,
                                                         DecodeCommand.self, CheckConfigCommand.self, QueueStatsCommand.self]

    static func main() async {
        exit(await execute(Array(CommandLine.arguments.dropFirst())))
    }

    /// Runs the command `words` name; returns the exit status.
    static func execute(_ words: [String]) async -> Int32 {
        var words = words[...]
        if words.first == "help" {
            words.removeFirst()
            words.append("--help")
        }
        guard let first = words.first else {
            return usageError("a command is needed", usage: "trackerd <command>", helpHint: "trackerd --help")
        }
        guard !first.hasPrefix("-") || first == "-h" || first == "--help" || first == "--version" else {
            return usageError("unknown option '\(first)'", usage: "trackerd <command>", helpHint: "trackerd --help")
        }
        if first == "--version" {
            print(TrackerCore.version)
            return 0
        }
        // The longest command name the words begin with ("queue stats" before "queue").
        let command = commands.filter { type in
            let name = type.spec.name.split(separator: " ").map(String.init)
            return words.count >= name.count && Array(words.prefix(name.count)) == name
        }.max { $0.spec.name.count < $1.spec.name.count }
        guard let command else {
            if first == "-h" || first == "--help" {
                print(overview(), terminator: "")
                return 0
            }
            let group = commands.filter { $0.spec.name.hasPrefix(first + " ") }
            if !group.isEmpty {
                guard words.contains("--help") || words.contains("-h") else {
                    let names = group.map { String($0.spec.name.dropFirst(first.count + 1)) }.joined(separator: ", ")
                    return usageError("'\(first)' needs a command: \(names)", usage: "trackerd \(first) <command>", helpHint: "trackerd \(first) --help")
                }
                print(overview(group), terminator: "")
                return 0
            }
            return usageError("unknown command '\(first)'", usage: "trackerd <command>", helpHint: "trackerd --help")
        }
        let spec = command.spec
        let arguments: CommandLineArguments
        do {
            arguments = try CommandLineArguments(words.dropFirst(spec.name.split(separator: " ").count), spec: spec)
            if arguments.helpRequested {
                print(CommandLineArguments.help(spec), terminator: "")
                return 0
            }
            try await command.init(arguments).run()
            return 0
        } catch let error as CommandLineArguments.UsageError {
            return usageError(error.description, usage: CommandLineArguments.usage(spec), helpHint: "trackerd \(spec.name) --help")
        } catch let exit as ExitCode {
            return exit.status
        } catch {
            StandardError.line("Error: \(error)")
            return 1
        }
    }

    private static func usageError(_ problem: String, usage: String, helpHint: String) -> Int32 {
        StandardError.line("Error: \(problem)\nUsage: \(usage)\n  See '\(helpHint)' for more information.")
        return 64
    }

    private static func overview(_ listed: [any TrackerSubcommand.Type] = commands) -> String {
        var text = "OVERVIEW: \(abstract)\n\nUSAGE: trackerd <command>\n\nOPTIONS:\n"
        text += CommandLineArguments.entry("--version", "Show the version.")
        text += CommandLineArguments.entry("-h, --help", "Show help information.")
        text += "\nCOMMANDS:\n"
        for command in listed { text += CommandLineArguments.entry(command.spec.name, command.spec.abstract) }
        text += "\n  See 'trackerd help <command>' for detailed help.\n"
        return text
    }
}
