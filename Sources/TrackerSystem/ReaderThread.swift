import Logging
import TrackerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A detached OS thread for a blocking read loop, so that a receiver waiting on a tty or on gpsd
/// never occupies one of the few threads of Swift's cooperative pool (two, on the target board).
public enum ReaderThread {
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// False when the system has no thread to give (then `run` never runs). `name` (at most 15
    /// bytes) is what `top -H`, `ps -L` and /proc/PID/task/TID/comm show for it.
    public static func start(name: String, _ run: @escaping @Sendable () -> Void) -> Bool {
        let body = Unmanaged.passRetained(Body({
            nameThisThread(name)
            run()
        })).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            // pthread_create passes back the pointer given below, never nil.
            guard let argument else { return nil }
            Unmanaged<Body>.fromOpaque(argument).takeRetainedValue().run()
            return nil
        }, body)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(body).release()
            return false
        }
        pthread_detach(thread)
        return true
    }

    /// pthread_setname_np is not in Swift's Glibc module; the kernel's own file is (Linux 3.17+).
    private static func nameThisThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Runs `loop` on a thread of its own, handing what it emits to `deliver` there, then `nil`
    /// when it returns. The closure returned sets the `StopFlag` the loop watches.
    public static func deliver(for source: String, thread name: String, logger: Logger,
                               _ loop: @escaping @Sendable (StopFlag, (Fix) -> Void) -> Void,
                               to deliver: @escaping @Sendable (Fix?) -> Void) -> @Sendable () -> Void {
        let stop = StopFlag()
        let started = start(name: name) {
            loop(stop) { deliver($0) }
            deliver(nil)
        }
        if !started {
            logger.error("cannot start a reader thread for \(source)")
            deliver(nil)
        }
        return { stop.set() }
    }
}
