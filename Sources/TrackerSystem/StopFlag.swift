#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Tells a thread of ours (a reader, a connection loop) to finish.
public final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { stopped.load(ordering: .acquiring) }

    public func set() { stopped.store(true, ordering: .releasing) }

    /// Sleeps up to `duration` in short slices; returns early (false) once stopped.
    public func sleep(_ duration: Duration) -> Bool {
        var remaining = duration
        let slice = Duration.milliseconds(50)
        while remaining > .zero {
            if isSet { return false }
            let step = min(slice, remaining)
            var request = timespec(tv_sec: Int(step.components.seconds), tv_nsec: Int(step.components.attoseconds / 1_000_000_000))
            nanosleep(&request, nil)
            remaining -= step
        }
        return !isSet
    }
}
