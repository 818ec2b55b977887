/// trackerd: the fleet-tracker daemon and its field tools, wiring the core to the adapters.
import ArgumentParser
import TrackerCore

@main
struct TrackerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trackerd",
        abstract: "Fleet tracker daemon: GPS fixes from gpsd or a UART, published over MQTT.",
        version: TrackerCore.version,
        subcommands: [RunCommand.self, StatusCommand.self, ProvisionCommand.self, SimulateCommand.self, DecodeCommand.self, CheckConfigCommand.self, QueueCommand.self],
        defaultSubcommand: nil
    )
}
