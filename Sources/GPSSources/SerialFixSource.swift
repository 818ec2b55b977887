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
/// reopened with backoff until it returns; the loss and the return are each logged once
/// (`SerialFixReader`, which the daemon's loop serves itself).
public struct SerialFixSource: LoopServedFixSource {
    public let path: String
    public let baud: Int
    private let logger: Logger
    let backoff: Backoff
    let idleFlush: Duration
    let gather: Duration
    private let initCommands: [[UInt8]]
    private let atCommands: (port: String, commands: [String])?

    /// `backoff`: delays between reopen attempts. A local device has no thundering herd to
    /// avoid, so the default cap is short: a replugged receiver is back within seconds.
    /// `gather`: after bytes come, the port is read again this much later, not at its next
    /// bytes: a UART hands a receiver's cycle over in dozens of small pieces (at 9600 baud,
    /// 500 bytes over half a second), each of which woke the reader; a fix comes at most this
    /// much later (0: read at every piece).
    public init(path: String, baud: Int, logger: Logger,
                backoff: Backoff = Backoff(base: .milliseconds(500), cap: .seconds(10)),
                idleFlush: Duration = .milliseconds(300), gather: Duration = .milliseconds(100), initCommands: [[UInt8]] = [],
                atCommands: (port: String, commands: [String])? = nil) {
        self.gather = gather
        self.initCommands = initCommands
        self.atCommands = atCommands
        self.path = path
        self.baud = baud
        self.logger = logger
        self.backoff = backoff
        self.idleFlush = idleFlush
    }

    public var description: String { "serial \(path) at \(baud) baud" }

    public func makeReader() -> any FixReader {
        SerialFixReader(source: self, logger: logger)
    }

    public func start(delivering deliver: @escaping @Sendable (Fix?) -> Void) -> @Sendable () -> Void {
        FixReaderThread.start(self, thread: "trackerd-gps", logger: logger, delivering: deliver)
    }

    /// The board profile's set-up: AT commands to the modem's AT port (a modem's GNSS engine must
    /// be switched on), then NMEA/UBX commands to the receiver itself, at every (re)open.
    func sendInitCommands(to fd: Int32) {
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
        for command in initCommands { Self.writeAll(fd, command) }
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
}
