#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import TrackerCore

/// Tells a thread of ours (a reader, a connection loop) to finish. A thread that waits in
/// poll(2) adds `fd` to its set instead of waking on a timeout to look: it becomes readable
/// when the flag is set, so an idle reader sleeps until there is something to do.
public final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let pipe = WakePipe()
    /// Readable once set (a pipe's read end); -1 if none could be made (then poll with a timeout).
    public var fd: Int32 { pipe.readEnd }

    public init() {}

    public var isSet: Bool { stopped.load(ordering: .acquiring) }

    public func set() {
        stopped.store(true, ordering: .releasing)
        pipe.signal()
    }

    /// Sleeps until stopped, one of `watched` is ready (their `revents` say how) or `deadline`
    /// passes (nil: no deadline).
    public func wait(until deadline: MonotonicInstant?, watching watched: inout [pollfd]) {
        pipe.wait(milliseconds: deadline.map { WakePipe.milliseconds($0 - .now) } ?? -1, watching: &watched)
    }

    /// Sleeps up to `duration`; returns early (false) once stopped. One wake-up, at the end or
    /// at the stop (not a wake-up every few milliseconds to look).
    public func sleep(_ duration: Duration) -> Bool {
        let end = MonotonicInstant.now + duration
        while !isSet {
            let left = end - MonotonicInstant.now
            if left <= .zero { return true }
            pipe.wait(milliseconds: min(WakePipe.milliseconds(left), 3_600_000))
        }
        return false
    }
}
