#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A pipe that wakes a thread sleeping in poll(2): `signal` makes the read end readable.
/// Non-blocking and close-on-exec (a child process must not hold it). Without one (the process
/// is out of file descriptors) the ends are -1 and `wait` naps 50 ms at a time instead.
public final class WakePipe: Sendable {
    /// Poll it for POLLIN; -1 if there is no pipe.
    public let readEnd: Int32
    private let writeEnd: Int32

    public init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            }
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        if readEnd >= 0 { close(readEnd) }
        if writeEnd >= 0 { close(writeEnd) }
    }

    public func signal() {
        var byte: UInt8 = 1
        if writeEnd >= 0 { _ = write(writeEnd, &byte, 1) }
    }

    /// Empties the pipe: the signals so far are taken.
    public func drain() {
        var sink = [UInt8](repeating: 0, count: 64)
        if readEnd >= 0 { while read(readEnd, &sink, sink.count) > 0 {} }
    }

    /// Sleeps until signalled or `milliseconds` pass (-1: no limit).
    public func wait(milliseconds: Int32) {
        var none: [pollfd] = []
        wait(milliseconds: milliseconds, watching: &none)
    }

    /// Sleeps until signalled, one of `watched` is ready (their `revents` say how; a negative
    /// `fd` is not watched) or `milliseconds` pass (-1: no limit).
    public func wait(milliseconds: Int32, watching watched: inout [pollfd]) {
        for i in watched.indices { watched[i].revents = 0 }
        if readEnd >= 0 {
            var descriptors = [pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)] + watched
            if poll(&descriptors, nfds_t(descriptors.count), milliseconds) > 0 {
                for i in watched.indices { watched[i].revents = descriptors[i + 1].revents }
            }
        } else if watched.contains(where: { $0.fd >= 0 }) {
            // No pipe: the watched descriptors with the 50 ms naps' limit.
            _ = poll(&watched, nfds_t(watched.count), milliseconds < 0 ? 50 : min(milliseconds, 50))
        } else {
            let nap = milliseconds < 0 ? 50 : min(milliseconds, 50)
            var request = timespec(tv_sec: 0, tv_nsec: Int(nap) * 1_000_000)
            nanosleep(&request, nil)
        }
    }

    /// `duration` as poll(2)'s milliseconds, rounded up (a wake a little late, never early).
    public static func milliseconds(_ duration: Duration) -> Int32 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
