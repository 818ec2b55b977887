import Dispatch
import Foundation
import Glibc

/// Waits for a file written by another process (localcloud's received.jsonl, say) to reach a
/// condition, woken by inotify on its directory rather than sleeping and rereading: a process
/// that has exited may have had its messages acknowledged by the broker before the service that
/// records them has written them.
public enum FileChanges {
    /// True as soon as `condition` holds for the file's contents (nil while it does not exist);
    /// false if it still does not at the deadline.
    public static func wait(path: String, timeout: Duration, until condition: @escaping @Sendable (Data?) -> Bool) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: block(path: path, timeout: timeout, until: condition))
            }
        }
    }

    private static func block(path: String, timeout: Duration, until condition: (Data?) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return condition(FileManager.default.contents(atPath: path)) }
        defer { close(fd) }
        let directory = (path as NSString).deletingLastPathComponent
        // The directory, not the file: the file may not exist yet or be replaced by a rename.
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE)
        _ = inotify_add_watch(fd, directory, mask)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            // Checked after the watch is in place, so a write between the two is not missed.
            if condition(FileManager.default.contents(atPath: path)) { return true }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            let milliseconds = Int32(min(Int64(Int32.max), left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1))
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, milliseconds)
            _ = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        }
    }
}
