#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Tells a thread of ours (a reader, a connection loop) to finish. A thread that waits in
/// poll(2) adds `fd` to its set instead of waking on a timeout to look: it becomes readable
/// when the flag is set, so an idle reader sleeps until there is something to do.
public final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)
    /// Readable once set (a pipe's read end); -1 if none could be made (then poll with a timeout).
    public let fd: Int32
    private let writeEnd: Int32

    public init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            }
        }
        fd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        if fd >= 0 { close(fd) }
        if writeEnd >= 0 { close(writeEnd) }
    }

    public var isSet: Bool { stopped.load(ordering: .acquiring) }

    public func set() {
        stopped.store(true, ordering: .releasing)
        var byte: UInt8 = 1
        if writeEnd >= 0 { _ = write(writeEnd, &byte, 1) }
    }

    /// Sleeps up to `duration`; returns early (false) once stopped. One wake-up, at the end or
    /// at the stop (not a wake-up every few milliseconds to look).
    public func sleep(_ duration: Duration) -> Bool {
        let end = ContinuousClock.now + duration
        while !isSet {
            let left = end - ContinuousClock.now
            if left <= .zero { return true }
            let milliseconds = Int32(min(Double(left.components.seconds) * 1000 + Double(left.components.attoseconds) / 1e15, 3_600_000).rounded(.up))
            if fd >= 0 {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, milliseconds)
            } else {
                var request = timespec(tv_sec: Int(min(milliseconds, 50)) / 1000, tv_nsec: Int(min(milliseconds, 50) % 1000) * 1_000_000)
                nanosleep(&request, nil)
            }
        }
        return false
    }
}
