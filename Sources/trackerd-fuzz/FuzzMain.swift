#if FUZZING
#if canImport(Glibc)
import Glibc
#endif
import TrackerFuzzing

// Built by `make fuzz` with coverage instrumentation and libFuzzer's runtime (no main of its
// own): SwiftPM names an executable's entry point `<module>_main`, so libFuzzer's driver is
// started from here. TRACKERD_FUZZ_TARGET picks the parser.
typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: FuzzCallback) -> Int32

/// The parser under test, from TRACKERD_FUZZ_TARGET (read once; the callback cannot capture).
let fuzzTarget = getenv("TRACKERD_FUZZ_TARGET").flatMap { FuzzTarget(rawValue: String(cString: $0)) }

@_cdecl("trackerd_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard fuzzTarget != nil else {
        let message = Array("trackerd-fuzz: TRACKERD_FUZZ_TARGET must be one of nmea, toml, geojson, provisioning, salvage\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        return 2
    }
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        fuzzTarget?.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}
#else
import TrackerFuzzing
import FoundationEssentials

/// Without the fuzzer: `trackerd-fuzz TARGET FILE...` runs each file through the target once,
/// to reproduce a crash under a debugger.
@main struct FuzzReplay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: trackerd-fuzz nmea|toml|geojson|provisioning|salvage FILE...")
            return
        }
        for path in arguments.dropFirst() {
            target.run(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            print("\(path): ok")
        }
    }
}
#endif
