import TrackerCore
import TrackerSystem

struct DecodeCommand: TrackerSubcommand {
    static let spec = CommandLineArguments.Spec(
        name: "decode",
        abstract: "Decode NMEA 0183 from a file or stdin: one JSON object per fix on stdout, a summary on stderr.",
        discussion: """
        Keys follow gpsd's TPV where they exist (time, mode, lat, lon, altMSL, speed, track, eph); \
        a key is absent when its value is unknown, and a no-fix cycle has "mode":1 and no position. \
        Lines that cannot be used are counted by reason and skipped.
        """,
        arguments: [.init(name: "file", help: "An NMEA capture, or - for standard input (the default).", absent: "-")])

    let file: String

    init(_ arguments: CommandLineArguments) {
        file = arguments.argument(0)
    }

    func run() throws {
        var decoder = NMEADecoder()
        let emit: (Fix) -> Void = { print(FixJSON.encode($0)) }
        do {
            try FileReader.forEachChunk(file) { decoder.push($0, emit) }
        } catch {
            StandardError.line("trackerd decode: \(error)")
            throw error.isMissing ? ExitStatus.noInput : ExitStatus.invalid
        }
        decoder.finish(emit)
        StandardError.line("\(file == "-" ? "stdin" : file): \(decoder.statistics.summary)")
    }
}
