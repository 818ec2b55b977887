import TrackerCore
import TrackerSystem

struct SimulateCommand: TrackerSubcommand {
    static let spec = CommandLineArguments.Spec(
        name: "simulate",
        abstract: "Run the pipeline on a recorded track without network: every message trackerd would publish, one JSON line each.",
        discussion: """
        Decoder, rate control, geofences and payloads, as `run` applies them; output lines are \
        {"topic":..,"payload":{...}}. Nothing is kept between runs and nothing but the output is written, \
        so the same track always gives the same lines. Zone states start empty. With --geojson, stdout is \
        one GeoJSON FeatureCollection instead: the zones, the published fixes, the trips and the events \
        (for QGIS, gpxsee or geojson.io).
        """,
        options: [.option("config", "file", "The configuration file (default: \(TrackerConfig.defaultPath))."),
                  .flag("geojson", "Write the published fixes, trips, events and zones as a GeoJSON FeatureCollection.")],
        arguments: [.init(name: "track", help: "A recorded NMEA track.", absent: nil)])

    let config: String?
    let track: String
    let geojson: Bool

    init(_ arguments: CommandLineArguments) {
        config = arguments.value("config")
        track = arguments.argument(0)
        geojson = arguments.flag("geojson")
    }

    func run() throws {
        let settings = try ConfigFile.loadOrExit(config)
        let zones: [Zone]
        do { zones = try GeofenceFiles.zones(settings.geofences) } catch {
            StandardError.line("\(error)")
            throw ExitStatus.configuration
        }
        let deviceID = settings.device.id ?? "simulated"
        let planner = PublicationPlanner(config: settings, deviceID: deviceID, thingName: settings.mqtt.clientID ?? deviceID,
                                         detector: GeofenceDetector(zones: zones))
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readAll(track)
        } catch {
            StandardError.line("trackerd simulate: \(error)")
            throw error.isMissing ? ExitStatus.noInput : ExitStatus.invalid
        }
        // The engine `run` uses, on the track's own clock (fix loss is a gap of stale_after_s
        // between fix times), always connected, with a store that holds nothing and a broker
        // that acknowledges at once: what it publishes is what `run` would publish.
        let start = MonotonicInstant.now
        var engine = TrackerEngine(settings: EngineSettings(config: settings, deviceID: deviceID, thingName: nil, source: track,
                                                            processID: 0, alwaysPublish: true),
                                   planner: planner, now: start, seed: 0)
        var firstTime: Int64?
        var now = start
        var lines = 0
        var nextMessageID: Int32 = 0
        var map = DriveFeatureCollection(zones: zones)
        func send(_ input: EngineInput) {
            for action in engine.handle(input, now: now, wallMilliseconds: 0) {
                switch action {
                case .publish(let publications):
                    var sent: [PublishOutcome.Sent] = []
                    for publication in publications {
                        if geojson {
                            // Read back from the wire payload, as a subscriber would.
                            if let message = JSONValue.parse(publication.payload).flatMap(PublishedMessage.init(payload:)) {
                                map.add(message)
                            }
                        } else {
                            // The payload is the wire payload, byte for byte, inside the line.
                            print("{\"topic\":\(FixPayload.jsonString(publication.topic)),\"payload\":\(String(decoding: publication.payload, as: UTF8.self))}")
                        }
                        lines += 1
                        nextMessageID &+= 1
                        sent.append(.init(sequences: publication.sequences, messageID: nextMessageID))
                    }
                    send(.published(PublishOutcome(sent: sent)))
                    send(.connection(.acknowledged(sent.map(\.messageID))))
                case .openStore: send(.storeOpened(OpenedStore(path: "(simulated)", messages: [], droppedBefore: 0)))
                case .commit(let commit): send(.committed(commit))
                default: break
                }
            }
        }
        send(.start)
        send(.connection(.connected))
        for fix in NMEADecoder.decode(bytes).fixes {
            guard let time = fix.time?.millisecondsSinceEpoch else { continue }
            let first = firstTime ?? time
            firstTime = first
            now = start + .milliseconds(time - first)
            send(.fix(fix))
        }
        send(.sourceEnded)
        if geojson { print(String(decoding: JSONWriter.write(map.geoJSON), as: UTF8.self)) }
        StandardError.line("\(track): \(lines) messages")
    }
}
