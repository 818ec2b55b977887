import TrackerCore
import TrackerSystem

struct DecodeCommand: TrackerSubcommand {
    static let spec = CommandLineArguments.Spec(
        name: "decode",
        abstract: "Decode NMEA 0183 from a file or stdin: one JSON object per fix on stdout, a summary on stderr.",
        discussion: """
        Keys follow gpsd's TPV where they exist (time, mode, lat, lon, altMSL, speed, track, eph); \
        a key is absent when its value is unknown, and a no-fix cycle has "mode":1 and no position. \
        Lines that cannot be used are counted by reason and skipped. With --gpx, stdout is a GPX 1.1 \
        track instead (a segment per stretch with a fix), for gpxsee, QGIS or gpsbabel.
        """,
        options: [.flag("gpx", "Write the fixes as a GPX 1.1 track instead of JSON lines.")],
        arguments: [.init(name: "file", help: "An NMEA capture, or - for standard input (the default).", absent: "-")])

    let file: String
    let gpx: Bool

    init(_ arguments: CommandLineArguments) {
        file = arguments.argument(0)
        gpx = arguments.flag("gpx")
    }

    func run() throws {
        var decoder = NMEADecoder()
        // The whole track is held for GPX (a capture of a day at 1 Hz is some 86,400 fixes).
        var document = GPXDocument(name: file == "-" ? nil : String(file.split(separator: "/").last ?? ""))
        let emit: (Fix) -> Void = gpx ? { document.append($0) } : { print(FixJSON.encode($0)) }
        do {
            try FileReader.forEachChunk(file) { decoder.push($0, emit) }
        } catch {
            StandardError.line("trackerd decode: \(error)")
            throw error.isMissing ? ExitStatus.noInput : ExitStatus.invalid
        }
        decoder.finish(emit)
        if gpx { print(document.xml, terminator: "") }
        StandardError.line("\(file == "-" ? "stdin" : file): \(decoder.statistics.summary)")
    }
}
