import ArgumentParser
import TrackerCore
import TrackerSystem

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the pipeline on a recorded track without network: every message trackerd would publish, one JSON line each.",
        discussion: """
        Decoder, rate control, geofences and payloads, as `run` applies them; output lines are \
        {"topic":..,"payload":{...}}. Nothing is kept between runs and nothing but the output is written, \
        so the same track always gives the same lines. Zone states start empty.
        """
    )

    @Option(name: .long, help: "The configuration file (default: \(TrackerConfig.defaultPath)).")
    var config: String?

    @Argument(help: "A recorded NMEA track.")
    var track: String

    func run() throws {
        let settings = try ConfigFile.loadOrExit(config)
        let zones: [Zone]
        do { zones = try GeofenceFiles.zones(settings.geofences) } catch {
            StandardError.line("\(error)")
            throw ExitStatus.configuration
        }
        let deviceID = settings.device.id ?? "simulated"
        var planner = PublicationPlanner(config: settings, deviceID: deviceID, thingName: settings.mqtt.clientID ?? deviceID,
                                         detector: GeofenceDetector(zones: zones))
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readAll(track)
        } catch {
            StandardError.line("trackerd simulate: \(error)")
            throw error.isMissing ? ExitStatus.noInput : ExitStatus.invalid
        }
        // Loss of fix by the track's own clock: a gap of more than stale_after_s between fixes.
        let stale = settings.gps.staleAfter.nanoseconds / 1_000_000
        var lastFixTime: UTCTimestamp?
        var lines = 0
        for fix in NMEADecoder.decode(bytes).fixes where fix.hasPosition {
            guard let time = fix.time else { continue }
            let afterLoss = lastFixTime.map { time.millisecondsSinceEpoch - $0.millisecondsSinceEpoch > stale } ?? false
            lastFixTime = time
            for message in planner.plan(fix, afterLoss: afterLoss) {
                print("{\"topic\":\(FixPayload.jsonString(message.topic)),\"payload\":\(message.payload)}")
                lines += 1
            }
        }
        StandardError.line("\(track): \(lines) messages")
    }
}
