#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import TrackerCore
import TrackerSystem

/// `SerialFixSource`'s reader: opens the port at its first `serve`, reads what the tty holds
/// whenever it is readable, and when the device goes away (EOF, EIO, ENXIO, ENODEV: USB
/// unplugged) closes it and opens it again after a backoff delay (`ReconnectPolicy`; a
/// receiver that sent bytes has proved itself, and the next outage starts from the base
/// delay). The loss and the return are each logged once. A silent receiver costs no wake-ups,
/// except once, `idleFlush` after the last bytes, to finish a cycle left open. A talking one is
/// read once its cycle has had the time to come in (as long as the last cycle, at the line's
/// rate; `gather` at a time while none has been measured), the port not watched meanwhile, and
/// watched again once the cycle is out: two wake-ups a cycle, not one a piece.
final class SerialFixReader: FixReader {
    private let source: SerialFixSource
    private let logger: Logger
    private var port: SerialPort?
    private var policy: ReconnectPolicy
    /// When to try to open the port again; nil once no retry can mend it (a baud rate the
    /// system does not have).
    private var openAt: MonotonicInstant?
    private var decoder = NMEADecoder()
    private var everOpened = false
    private var firstBytesAt: MonotonicInstant?
    private var flushAt: MonotonicInstant?
    /// Bytes came at the last read: the port is read again then, not watched until.
    private var gatherUntil: MonotonicInstant?
    /// Bytes of the cycle coming in, and of the last whole one: the rest of a cycle is read
    /// when the line has had the time to bring it, not a gather at a time.
    private var cycleBytes = 0
    private var lastCycleBytes: Int?
    private var buffer = [UInt8](repeating: 0, count: 4096)

    init(source: SerialFixSource, logger: Logger) {
        self.source = source
        self.logger = logger
        policy = ReconnectPolicy(backoff: source.backoff)
        openAt = .now
    }

    var descriptor: Int32 { gatherUntil == nil ? port?.fd ?? -1 : -1 }

    var serveBy: MonotonicInstant? {
        guard port != nil else { return openAt }
        guard let gatherUntil else { return flushAt }
        return min(gatherUntil, flushAt ?? gatherUntil)
    }

    func serve(now: MonotonicInstant) -> (fixes: [Fix], ended: Bool) {
        var fixes: [Fix] = []
        if port == nil {
            guard let at = openAt else { return ([], true) }
            guard now >= at else { return ([], false) }
            if !open(now: now) { return ([], openAt == nil) }
        }
        guard let fd = port?.fd else { return ([], false) }
        var gotBytes = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                gotBytes = true
                cycleBytes += count
                if firstBytesAt == nil { firstBytesAt = now }
                decoder.push(buffer[0..<count]) { fixes.append($0) }
                continue
            }
            let code = errno
            if count < 0 && code == EINTR { continue }
            if count < 0 && code == EAGAIN { break }
            lost(count == 0 ? "end of file" : String(cString: strerror(code)) + " (errno \(code))", now: now, &fixes)
            return (fixes, false)
        }
        if gotBytes && decoder.isBetweenCycles {
            // The cycle is out (its learned last sentence came): the receiver is quiet until the
            // next one, and nothing is left for a flush.
            flushAt = nil
            gatherUntil = nil
            lastCycleBytes = cycleBytes
            cycleBytes = 0
        } else if gotBytes {
            flushAt = now + source.idleFlush
            gatherUntil = source.gather > .zero ? now + gatherDelay() : nil
        } else {
            gatherUntil = nil
            if let due = flushAt, now >= due {
                decoder.flush { fixes.append($0) }
                flushAt = nil
            }
        }
        return (fixes, false)
    }

    /// Until the rest of the cycle has had the time to come (a cycle as long as the last one,
    /// at the line's 10 bits a byte), with 20 ms to spare; `gather` while no cycle has been
    /// measured or this one is already longer.
    private func gatherDelay() -> Duration {
        guard let last = lastCycleBytes, last > cycleBytes else { return source.gather }
        let lineTime = Duration.nanoseconds(Int64(last - cycleBytes) * 10 * 1_000_000_000 / Int64(max(source.baud, 1)))
        return min(lineTime + .milliseconds(20), .seconds(1))
    }

    func close() {
        port = nil
        logger.info("serial source stopped", metadata: ["device": "\(source.path)", "nmea": "\(decoder.statistics.summary)"])
    }

    private func open(now: MonotonicInstant) -> Bool {
        do {
            port = try SerialPort(path: source.path, baud: source.baud)
        } catch {
            if case .unsupportedBaud = error {
                // No retry can mend a configuration error.
                logger.error("\(error)")
                openAt = nil
            } else {
                retry(after: .couldNotOpen(reason: "\(error)"), now: now)
            }
            return false
        }
        if let fd = port?.fd { source.sendInitCommands(to: fd) }
        logger.info(everOpened ? "GPS receiver back" : "reading NMEA from \(source.description)", metadata: ["device": "\(source.path)"])
        everOpened = true
        firstBytesAt = nil
        flushAt = nil
        return true
    }

    private func lost(_ reason: String, now: MonotonicInstant, _ fixes: inout [Fix]) {
        decoder.flush { fixes.append($0) }
        port = nil
        flushAt = nil
        gatherUntil = nil
        cycleBytes = 0
        retry(after: .ended(reason: reason, establishedAt: firstBytesAt), now: now)
    }

    private func retry(after outcome: ReconnectPolicy.Outcome, now: MonotonicInstant) {
        let (event, delay) = policy.after(outcome, now: now)
        switch event {
        case .unavailable(let reason): logger.warning("GPS receiver unavailable: \(reason)", metadata: ["device": "\(source.path)"])
        case .stillUnavailable: break
        case .lost(let reason, _): logger.warning("GPS receiver lost: \(reason)", metadata: ["device": "\(source.path)"])
        }
        logger.info("reopening \(source.path) in \(JSONNumber.fixed(delay.seconds, 2)) s")
        openAt = now + delay
    }
}
