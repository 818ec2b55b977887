import Logging
import TrackerCore
import TrackerSystem

struct ProvisionCommand: TrackerSubcommand {
    static let spec = CommandLineArguments.Spec(
        name: "provision",
        abstract: "Trade the claim certificate for this device's own (AWS IoT fleet provisioning) and exit.",
        discussion: "Exits 0 once the device is provisioned (at once if it already is); 76 if the cloud refused (the log says what to fix), 77 if a credential file's mode or owner is wrong, 78 if the configuration is.",
        options: [.option("config", "file", "The configuration file (default: \(TrackerConfig.defaultPath))."), .logLevel])

    let config: String?
    let logLevel: String

    init(_ arguments: CommandLineArguments) throws(CommandLineArguments.UsageError) {
        config = arguments.value("config")
        logLevel = try arguments.logLevel()
    }

    func run() async throws {
        let (settings, _, logger) = try ConfigFile.start(config, logLevel: logLevel)
        let deviceID = settings.device.id ?? BoardSerialNumber.read() ?? "unknown"
        try TokenAccess.open(settings, logger: logger)
        let (result, _) = try await DeviceProvisioning.ensure(settings, deviceID: deviceID, logger: logger)
        print("provisioned as \(result.thingName) (certificate \(result.certificateId))")
    }
}
