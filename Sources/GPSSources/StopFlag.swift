#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Tells a reader thread that nobody is listening any more.
final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)

    var isSet: Bool { stopped.load(ordering: .acquiring) }

    func set() { stopped.store(true, ordering: .releasing) }

    /// Sleeps up to `duration` in short slices; returns early (false) once stopped.
    func sleep(_ duration: Duration) -> Bool {
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
