#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import TrackerCore

/// Inputs put from any thread, taken by one thread that sleeps until one comes or its deadline
/// passes: the daemon's loop. Each hop between threads is a wake-up the board pays for, so a
/// source's thread puts straight into it (no task in between), and a put into a queue that is
/// already signalled wakes nothing more.
public final class InputQueue<Element: Sendable>: Sendable {
    private let pending = Mutex<(items: [Element], signalled: Bool)>(([], false))
    private let pipe = WakePipe()
    /// The thread that takes (0 before the first take): what it puts itself (a callback run
    /// while it serves a socket) is found by its next take, without a byte through the pipe.
    private let taker = Atomic<UInt>(0)

    public init() {}

    public func put(_ element: Element) {
        let own = pthread_self() == taker.load(ordering: .relaxed)
        let signal = pending.withLock { state in
            state.items.append(element)
            if own { return false }
            defer { state.signalled = true }
            return !state.signalled
        }
        if signal { pipe.signal() }
    }

    /// What was put, oldest first, once there is something; empty when `deadline` passes first
    /// (nil: no deadline).
    public func take(until deadline: MonotonicInstant?) -> [Element] {
        var none: [pollfd] = []
        return take(until: deadline, watching: &none)
    }

    /// As `take(until:)`, and returns (perhaps empty) as soon as one of `watched` is ready:
    /// their `revents` say how (0 when it was not the reason). The loop watches the socket and
    /// the receiver it serves itself this way, in the same sleep as its inputs.
    public func take(until deadline: MonotonicInstant?, watching watched: inout [pollfd]) -> [Element] {
        taker.store(pthread_self(), ordering: .relaxed)
        for i in watched.indices { watched[i].revents = 0 }
        while true {
            // The pipe is emptied before the items are taken: a put in between leaves its byte
            // (the next take returns at once), never an item without a byte.
            pipe.drain()
            let items = takeAll()
            if !items.isEmpty { return items }
            var milliseconds: Int32 = -1
            if let deadline {
                let left = deadline - MonotonicInstant.now
                if left <= .zero { return [] }
                milliseconds = WakePipe.milliseconds(left)
            }
            pipe.wait(milliseconds: milliseconds, watching: &watched)
            if watched.contains(where: { $0.revents != 0 }) { return takeAll() }
        }
    }

    private func takeAll() -> [Element] {
        pending.withLock { state in
            defer { state = ([], false) }
            return state.items
        }
    }
}
