import ArgumentParser
import TrackerCore
import TrackerSystem

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file: exit 0 when valid, 1 with every error (file:line: key: problem)."
    )

    @Option(name: .long, help: "The configuration file (default: \(TrackerConfig.defaultPath)).")
    var config: String?

    func run() throws {
        let file = config ?? TrackerConfig.defaultPath
        do {
            _ = try ConfigFile.load(file)
            print("\(file): valid")
        } catch {
            StandardError.line("\(error)")
            throw ExitStatus.invalid
        }
    }
}
