#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TrackerCore

/// The system's real-time clock, for what an operator reads as a date (log stamps, "memory
/// only since", a file's creation time). Durations use the monotonic clock (`MonotonicInstant`),
/// which a clock step (NTP, GPS time on a Pi without RTC) does not move.
public enum WallClock {
    public static func now() -> UTCTimestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UTCTimestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}
