import TrackerCore
import TrackerSystem

struct CheckConfigCommand: TrackerSubcommand {
    static let spec = CommandLineArguments.Spec(
        name: "check-config",
        abstract: "Validate a configuration file: exit 0 when valid, 1 with every error (file:line: key: problem).",
        discussion: """
        With --configured it answers systemd's ExecCondition= instead: exit 0 when the file names an \
        [mqtt] endpoint (or is broken, so that `trackerd run` fails and says why), 1 when the device \
        is not configured yet and the unit should stay stopped.
        """,
        options: [
            .option("config", "file", "The configuration file (default: \(TrackerConfig.defaultPath))."),
            .flag("configured", "Exit 1 when the file is valid but names no [mqtt] endpoint yet."),
            .flag("remote", "Also show the settings the device shadow may change: each value in force and where it came from (the file, the shadow's last applied state in [store] dir, or the default)."),
        ])

    let config: String?
    let configured: Bool
    let remote: Bool

    init(_ arguments: CommandLineArguments) {
        config = arguments.value("config")
        configured = arguments.flag("configured")
        remote = arguments.flag("remote")
    }

    func run() throws {
        let file = config ?? TrackerConfig.defaultPath
        if configured { return try checkConfigured(file) }
        do {
            let (settings, _) = try ConfigFile.load(file)
            for warning in settings.warnings { StandardError.line("warning: \(warning)") }
            print("\(file): valid")
            if remote { try showRemote(settings) }
        } catch {
            StandardError.line("\(error)")
            throw ExitStatus.invalid
        }
    }

    /// The values in force at the next start, as `trackerd status` shows them while it runs.
    private func showRemote(_ file: TrackerConfig) throws {
        let remote = RemoteSettingsFile(storeDirectory: file.store.directory)
        var applied = RemoteSettings()
        do {
            if let (settings, version) = try remote.read() {
                applied = settings
                print("\(remote.state.path): shadow version \(version)")
            } else {
                print("\(remote.state.path): no shadow settings applied yet")
            }
        } catch {
            switch error {
            case .unreadable(let reason):
                StandardError.line("\(remote.state.path): \(reason) (run it as root or as the user trackerd)")
            case .invalid(let problems):
                for problem in problems { StandardError.line("\(remote.state.path): \(problem.path): \(problem.problem)") }
            }
            throw ExitStatus.invalid
        }
        for setting in EffectiveSetting.list(file: file, remote: applied, logLevel: "info") {
            print("\(setting.key) = \(setting.value) (\(setting.origin.rawValue))")
        }
    }

    /// A freshly installed package ships the example file, which is valid but points nowhere:
    /// starting the daemon then would only log fixes. A broken file, on the other hand, must not
    /// be skipped quietly: the unit starts, `run` reports every error and exits 78, and the unit
    /// shows as failed.
    private func checkConfigured(_ file: String) throws {
        let settings: TrackerConfig
        do {
            settings = try ConfigFile.load(file).0
        } catch {
            if case .unreadable(let reason) = error, reason.isMissing {
                print("\(file) does not exist: trackerd is not configured yet")
                throw ExitStatus.invalid
            }
            print("\(file) has errors: starting trackerd, which reports them")
            return
        }
        guard let endpoint = settings.mqtt.endpoint else {
            print("\(file) names no [mqtt] endpoint: trackerd is not configured yet")
            throw ExitStatus.invalid
        }
        print("\(file): configured for \(endpoint)")
    }
}
