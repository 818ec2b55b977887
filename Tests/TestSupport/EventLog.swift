import Dispatch
import Synchronization

/// Things that happened (fixes, log lines, output lines), collected from any thread, and a way
/// to wait for a condition on them with a deadline instead of sleeping and hoping.
public final class EventLog<Element: Sendable>: Sendable {
    private struct Waiter {
        let predicate: @Sendable ([Element]) -> Bool
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var items: [Element] = []
        var waiters: [Int: Waiter] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var items: [Element] { state.withLock { $0.items } }

    public func append(_ item: Element) {
        let ready: [CheckedContinuation<Bool, Never>] = state.withLock { state in
            state.items.append(item)
            let done = state.waiters.filter { $0.value.predicate(state.items) }
            for id in done.keys { state.waiters[id] = nil }
            return done.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// True as soon as `predicate` holds for the items so far; false if it still does not at the deadline.
    public func wait(timeout: Duration, until predicate: @escaping @Sendable ([Element]) -> Bool) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let id: Int? = state.withLock { state in
                if predicate(state.items) { return nil }
                let id = state.nextID
                state.nextID += 1
                state.waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                return id
            }
            guard let id else {
                continuation.resume(returning: true)
                return
            }
            let nanoseconds = UInt64(max(0, timeout.components.seconds)) * 1_000_000_000
                + UInt64(max(0, timeout.components.attoseconds) / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [self] in
                let expired = state.withLock { $0.waiters.removeValue(forKey: id) }
                expired?.continuation.resume(returning: false)
            }
        }
    }
}
