#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CGPS
import Logging
import TrackerCore
import TrackerSystem

/// Fixes from gpsd, through libgps: gps_open, gps_stream(WATCH_ENABLE|WATCH_JSON), gps_read.
///
/// gpsd sends several cumulative TPVs per receiver cycle (after GGA, after RMC, ...), all with
/// the same time; they are merged into one fix, handed out when the next cycle starts or when
/// gpsd goes quiet for `idleFlush`. When gpsd goes away it is reconnected with backoff
/// (`ReconnectSupervisor`).
public struct GPSDFixSource: FixSource {
    public let host: String
    public let port: Int
    private let logger: Logger
    private let backoff: Backoff
    private let idleFlush: Duration

    public init(host: String, port: Int, logger: Logger,
                backoff: Backoff = Backoff(base: .milliseconds(500), cap: .seconds(10)),
                idleFlush: Duration = .milliseconds(300)) {
        self.host = host
        self.port = port
        self.logger = logger
        self.backoff = backoff
        self.idleFlush = idleFlush
    }

    public var description: String { "gpsd at \(host):\(port)" }

    public func start(delivering deliver: @escaping @Sendable (Fix?) -> Void) -> @Sendable () -> Void {
        let reader = self
        return ReaderThread.deliver(for: description, thread: "trackerd-gps", logger: logger, { reader.readLoop(stop: $0, emit: $1) },
                                    to: deliver)
    }

    private func readLoop(stop: StopFlag, emit: (Fix) -> Void) {
        // gps_data_t is large (tens of kilobytes): keep it off the thread's stack.
        guard let raw = calloc(1, MemoryLayout<gps_data_t>.size) else {
            logger.error("out of memory for the gpsd client")
            return
        }
        let data = raw.bindMemory(to: gps_data_t.self, capacity: 1)
        defer { free(raw) }
        var everConnected = false
        // A gpsd that delivers a fix has proved itself: the next outage starts from the base delay.
        ReconnectSupervisor(policy: ReconnectPolicy(backoff: backoff)).run(stop: stop, attempt: {
            memset(raw, 0, MemoryLayout<gps_data_t>.size)
            if let missing = cgps_load() {
                // No retry can mend a missing library.
                logger.error("\(String(cString: missing))")
                return nil
            }
            if cgps_open(host, String(port), data) != 0 {
                return .couldNotOpen(reason: cgps_errstr(errno).map { String(cString: $0) } ?? "errno \(errno)")
            }
            _ = cgps_watch(data)
            logger.info(everConnected ? "gpsd back at \(host):\(port)" : "reading fixes from \(description)")
            everConnected = true
            var firstFixAt: MonotonicInstant?
            let reason = pump(data, &firstFixAt, stop, emit)
            _ = cgps_close(data)
            return reason.map { .ended(reason: $0, establishedAt: firstFixAt) }
        }, report: { event, delay in
            switch event {
            case .unavailable(let reason): logger.warning("gpsd unavailable at \(host):\(port): \(reason)")
            case .stillUnavailable: break
            case .lost(let reason, _): logger.warning("gpsd connection lost: \(reason)", metadata: ["gpsd": "\(host):\(port)"])
            }
            logger.info("reconnecting to gpsd in \(JSONNumber.fixed(delay.seconds, 2)) s")
        })
    }

    /// Reads until gpsd goes away (returns why) or the source is stopped (returns nil). Sleeps
    /// in poll(2) on gpsd's socket and the stop, with a timeout only while a cycle is held for
    /// `idleFlush`: a quiet gpsd costs no wake-ups.
    private func pump(_ data: UnsafeMutablePointer<gps_data_t>, _ firstFixAt: inout MonotonicInstant?, _ stop: StopFlag,
                      _ emit: (Fix) -> Void) -> String? {
        var pending: Fix?
        defer { if let pending { emit(pending) } }
        let flushMilliseconds = WakePipe.milliseconds(idleFlush)
        var descriptors = [pollfd(fd: data.pointee.gps_fd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)]
        while !stop.isSet {
            // libgps may hold whole messages it has already read: those come first.
            if !cgps_waiting(data, 0) {
                descriptors[0].revents = 0
                let ready = poll(&descriptors, stop.fd >= 0 ? 2 : 1, pending == nil && stop.fd >= 0 ? -1 : flushMilliseconds)
                if ready < 0 && errno != EINTR { return "wait failed: \(String(cString: strerror(errno)))" }
                if ready == 0, let fix = pending {
                    emit(fix)
                    pending = nil
                }
                if descriptors[0].revents & Int16(POLLIN | POLLHUP | POLLERR) == 0 { continue }
            }
            let count = cgps_read(data)
            if count < 0 { return "gpsd closed the connection" }
            guard count > 0, cgps_set(data) & cgps_mode_set() != 0 else { continue }
            if firstFixAt == nil { firstFixAt = .now }
            let fix = Self.fix(from: data)
            if let held = pending, held.time != fix.time || fix.time == nil {
                emit(held)
            }
            pending = fix
        }
        return nil
    }

    /// A TPV as a `Fix`. gpsd's `fix.status` may stay 0 on a good fix (DESIGN.md), so the
    /// mode and LATLON_SET decide; every number is checked for NaN.
    static func fix(from data: UnsafePointer<gps_data_t>) -> Fix {
        let g = data.pointee
        // gpsd passes on what the receiver said: the same ranges as our own NMEA decoder apply.
        func within(_ x: Double, _ range: ClosedRange<Double>) -> Double? { x.isFinite && range.contains(x) ? x : nil }
        let nanoseconds = cgps_fix_time_ns(data)
        let milliseconds = nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 >= 500_000 ? 1 : 0)
        var fix = Fix(time: FixRanges.milliseconds.contains(milliseconds) ? UTCTimestamp(millisecondsSinceEpoch: milliseconds) : nil,
                      mode: .noFix)
        guard g.fix.mode >= 2, cgps_set(data) & cgps_latlon_set() != 0,
              let lat = within(g.fix.latitude, FixRanges.latitude),
              let lon = within(g.fix.longitude, FixRanges.longitude) else { return fix }
        fix.mode = g.fix.mode >= 3 ? .threeD : .twoD
        fix.latitude = lat
        fix.longitude = lon
        if fix.mode == .threeD { fix.altitudeMSL = within(cgps_fix_alt_msl(data), FixRanges.altitude) }
        fix.speed = within(g.fix.speed, FixRanges.speedMetresPerSecond)
        fix.track = within(g.fix.track, 0...359.999_999)
        fix.horizontalError = within(g.fix.eph, 0...1_000_000)
        fix.hdop = within(g.dop.hdop, FixRanges.dilution)
        fix.pdop = within(g.dop.pdop, FixRanges.dilution)
        fix.vdop = within(g.dop.vdop, FixRanges.dilution)
        if FixRanges.satellites.contains(Int(g.satellites_used)), g.satellites_used > 0 { fix.satellitesUsed = Int(g.satellites_used) }
        fix.quality = switch cgps_fix_status(data) {
        case 2: .dgps
        case 3: .rtkFixed
        case 4: .rtkFloat
        case 5, 6: .estimated
        case 7: .manual
        case 8: .simulated
        case 9: .pps
        default: .gps
        }
        return fix
    }
}
