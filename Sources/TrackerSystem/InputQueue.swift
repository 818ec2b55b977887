#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Inputs put from any thread, taken by one thread that sleeps until one comes or its deadline
/// passes: the daemon's loop. Each hop between threads is a wake-up the board pays for, so a
/// source's thread puts straight into it (no task in between), and a put into a queue that is
/// already signalled wakes nothing more.
public final class InputQueue<Element: Sendable>: Sendable {
    private let pending = Mutex<(items: [Element], signalled: Bool)>(([], false))
    private let pipe = WakePipe()

    public init() {}

    public func put(_ element: Element) {
        let signal = pending.withLock { state in
            state.items.append(element)
            defer { state.signalled = true }
            return !state.signalled
        }
        if signal { pipe.signal() }
    }

    /// What was put, oldest first, once there is something; empty when `deadline` passes first
    /// (nil: no deadline).
    public func take(until deadline: ContinuousClock.Instant?) -> [Element] {
        let clock = ContinuousClock()
        while true {
            // The pipe is emptied before the items are taken: a put in between leaves its byte
            // (the next take returns at once), never an item without a byte.
            pipe.drain()
            let items = pending.withLock { state -> [Element] in
                defer { state = ([], false) }
                return state.items
            }
            if !items.isEmpty { return items }
            var milliseconds: Int32 = -1
            if let deadline {
                let left = deadline - clock.now
                if left <= .zero { return [] }
                milliseconds = WakePipe.milliseconds(left)
            }
            pipe.wait(milliseconds: milliseconds)
        }
    }
}
