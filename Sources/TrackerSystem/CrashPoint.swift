#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Fault injection for the crash-safety tests: with `TRACKERD_CRASH_AT=<name>` in its
/// environment, trackerd kills itself with SIGKILL (a kill -9, a power cut as far as its files
/// know) when it reaches the point of that name. Without the variable this is one comparison.
public enum CrashPoint {
    static let armed: String? = getenv("TRACKERD_CRASH_AT").map { String(cString: $0) }

    public static func reached(_ name: String) {
        guard armed == name else { return }
        kill(getpid(), SIGKILL)
    }
}
