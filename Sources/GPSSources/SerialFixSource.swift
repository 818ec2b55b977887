#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import SystemPackage
import TrackerCore
import TrackerSystem

/// Fixes from a receiver on a UART or USB serial port, decoded by our own NMEA decoder.
///
/// When the device goes away (USB unplugged: EOF, EIO, ENXIO, ENODEV) the port is closed and
/// reopened with backoff until it returns (`ReconnectSupervisor`); the loss and the return are
/// each logged once.
public struct SerialFixSource: FixSource {
    public let path: String
    public let baud: Int
    private let logger: Logger
    private let backoff: Backoff
    private let idleFlush: Duration
    private let initCommands: [[UInt8]]
    private let atCommands: (port: String, commands: [String])?

    /// `backoff`: delays between reopen attempts. A local device has no thundering herd to
    /// avoid, so the default cap is short: a replugged receiver is back within seconds.
    public init(path: String, baud: Int, logger: Logger,
                backoff: Backoff = Backoff(base: .milliseconds(500), cap: .seconds(10)),
                idleFlush: Duration = .milliseconds(300), initCommands: [[UInt8]] = [],
                atCommands: (port: String, commands: [String])? = nil) {
        self.initCommands = initCommands
        self.atCommands = atCommands
        self.path = path
        self.baud = baud
        self.logger = logger
        self.backoff = backoff
        self.idleFlush = idleFlush
    }

    public var description: String { "serial \(path) at \(baud) baud" }

    public func start(delivering deliver: @escaping @Sendable (Fix?) -> Void) -> @Sendable () -> Void {
        let reader = self
        return ReaderThread.deliver(for: description, thread: "trackerd-gps", logger: logger, { reader.readLoop(stop: $0, emit: $1) },
                                    to: deliver)
    }

    private func readLoop(stop: StopFlag, emit: (Fix) -> Void) {
        var decoder = NMEADecoder()
        var everOpened = false
        defer {
            logger.info("serial source stopped", metadata: ["device": "\(path)", "nmea": "\(decoder.statistics.summary)"])
        }
        // A receiver that sends bytes has proved itself: the next outage starts from the base delay.
        ReconnectSupervisor(policy: ReconnectPolicy(backoff: backoff)).run(stop: stop, attempt: {
            let port: SerialPort
            do {
                port = try SerialPort(path: path, baud: baud)
            } catch {
                if case SerialPort.OpenError.unsupportedBaud = error {
                    // No retry can mend a configuration error.
                    logger.error("\(error)")
                    return nil
                }
                return .couldNotOpen(reason: "\(error)")
            }
            sendInitCommands(to: port)
            logger.info(everOpened ? "GPS receiver back" : "reading NMEA from \(description)", metadata: ["device": "\(path)"])
            everOpened = true
            var firstBytesAt: MonotonicInstant?
            let reason = pump(port, &decoder, &firstBytesAt, stop, emit)
            decoder.flush(emit)
            return reason.map { .ended(reason: $0, establishedAt: firstBytesAt) }
        }, report: { event, delay in
            switch event {
            case .unavailable(let reason): logger.warning("GPS receiver unavailable: \(reason)", metadata: ["device": "\(path)"])
            case .stillUnavailable: break
            case .lost(let reason, _): logger.warning("GPS receiver lost: \(reason)", metadata: ["device": "\(path)"])
            }
            logger.info("reopening \(path) in \(JSONNumber.fixed(delay.seconds, 2)) s")
        })
    }

    /// The board profile's set-up: AT commands to the modem's AT port (a modem's GNSS engine must
    /// be switched on), then NMEA/UBX commands to the receiver itself, at every (re)open.
    private func sendInitCommands(to port: borrowing SerialPort) {
        if let (atPath, commands) = atCommands, !commands.isEmpty {
            let fd = open(atPath, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 {
                for command in commands { Self.writeAll(fd, Array((command + "\r").utf8)) }
                close(fd)
                logger.info("sent \(commands.count) AT commands to \(atPath)")
            } else {
                logger.warning("cannot open the modem's AT port \(atPath): \(String(cString: strerror(errno)))")
            }
        }
        guard !initCommands.isEmpty else { return }
        for command in initCommands { Self.writeAll(port.fd, command) }
        logger.info("sent \(initCommands.count) init commands to the receiver", metadata: ["device": "\(path)"])
    }

    /// The port is non-blocking: when the tty's output buffer is full, wait (at most a second in
    /// all) for it to drain rather than spin.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        let descriptor = FileDescriptor(rawValue: fd)
        var remaining = bytes[...]
        var waits = 0
        while !remaining.isEmpty && waits < 100 {
            do {
                remaining = remaining.dropFirst(try remaining.withUnsafeBytes { try descriptor.write($0) })
            } catch .resourceTemporarilyUnavailable {
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&ready, 1, 10)
                waits += 1
            } catch {
                return
            }
        }
    }

    /// Reads until the device goes away (returns why) or the source is stopped (returns nil).
    /// Sleeps in poll(2) until bytes come or the stop is set: a silent receiver costs no
    /// wake-ups, except once, `idleFlush` after the last bytes, to finish an epoch left open.
    private func pump(_ port: borrowing SerialPort, _ decoder: inout NMEADecoder, _ firstBytesAt: inout MonotonicInstant?,
                      _ stop: StopFlag, _ emit: (Fix) -> Void) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var flushAt: MonotonicInstant?
        while !stop.isSet {
            var descriptors = [pollfd(fd: port.fd, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)]
            var timeout: Int32 = -1
            if let flushAt { timeout = Int32(max(0, (flushAt - .now).milliseconds.rounded(.up))) }
            // Without an eventfd for the stop, look at the flag a few times a second.
            if stop.fd < 0 { timeout = timeout < 0 ? 250 : min(timeout, 250) }
            let ready = poll(&descriptors, stop.fd < 0 ? 1 : 2, timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                return "poll failed: \(String(cString: strerror(errno)))"
            }
            if descriptors[0].revents == 0 {
                if let due = flushAt, MonotonicInstant.now >= due {
                    decoder.flush(emit)
                    flushAt = nil
                }
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(port.fd, $0.baseAddress, $0.count) }
            if count > 0 {
                flushAt = .now + idleFlush
                if firstBytesAt == nil { firstBytesAt = .now }
                decoder.push(buffer[0..<count], emit)
            } else if count == 0 {
                return "end of file"
            } else {
                let code = errno
                if code == EAGAIN || code == EINTR { continue }
                return String(cString: strerror(code)) + " (errno \(code))"
            }
        }
        return nil
    }
}

private extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
