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
/// except once, `idleFlush` after the last bytes, to finish a cycle left open; a talking one is
/// read every `gather` while a cycle is coming in (the port is not watched meanwhile), and
/// watched again once the cycle is out.
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
        } else if gotBytes {
            flushAt = now + source.idleFlush
            gatherUntil = source.gather > .zero ? now + source.gather : nil
        } else {
            gatherUntil = nil
            if let due = flushAt, now >= due {
                decoder.flush { fixes.append($0) }
                flushAt = nil
            }
        }
        return (fixes, false)
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
