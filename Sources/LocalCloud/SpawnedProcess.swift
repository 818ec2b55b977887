import Foundation
import SystemPackage

/// A child process started with posix_spawn and reaped with waitpid on a thread of its own.
///
/// Not Foundation's Process: its children inherit the signal mask of whatever pool thread
/// started them (Swift's threads block signals), so a Mosquitto started that way ignores
/// SIGTERM; and its exit monitoring was seen not to fire here. Here the child starts with an
/// empty mask and default dispositions.
///
/// Unchecked sendability is sound: `exitStatus` and `outputClosed` are read and written only
/// while holding `lock`; every other property is an immutable `let`.
public final class SpawnedProcess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSCondition()
    private var exitStatus: Int32?
    private var outputClosed = false

    /// `stdin`: bytes written to the child's stdin, then closed. `onOutput`: each line of its
    /// stdout (and stderr unless `stderrToParent`), called on a reader thread.
    public init(_ executable: String, _ arguments: [String], stdin: [UInt8]? = nil, stderrToParent: Bool = false,
                onOutput: @escaping @Sendable (String) -> Void = { _ in }) throws {
        var output: [Int32] = [0, 0], input: [Int32] = [0, 0]
        guard pipe(&output) == 0, pipe(&input) == 0 else { throw POSIXError(.EMFILE) }
        for fd in output + input { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        if !stderrToParent { posix_spawn_file_actions_adddup2(&actions, output[1], 2) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        close(output[1])
        close(input[0])
        guard rc == 0 else {
            close(output[0])
            close(input[1])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT)
        }
        pid = child
        let spawned = child
        let readFD = output[0], writeFD = input[1]
        Thread.detachNewThread {
            // A child that exits without reading all of it is its own business.
            if let stdin { _ = try? FileDescriptor(rawValue: writeFD).writeAll(stdin) }
            close(writeFD)
        }
        Thread.detachNewThread { [self] in
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                buffer += chunk[0..<n]
                while let newline = buffer.firstIndex(of: 0x0A) {
                    onOutput(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
            }
            if !buffer.isEmpty { onOutput(String(decoding: buffer, as: UTF8.self)) }
            close(readFD)
            self.lock.lock()
            self.outputClosed = true
            self.lock.broadcast()
            self.lock.unlock()
        }
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
            lock.lock()
            exitStatus = status
            lock.broadcast()
            lock.unlock()
        }
    }

    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return exitStatus == nil
    }

    /// Waits up to `timeout` seconds for the exit and the last line of output; the raw wait
    /// status, or nil if the process is still running.
    @discardableResult
    public func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while (exitStatus == nil || !outputClosed) && lock.wait(until: deadline) {}
        return outputClosed ? exitStatus : nil
    }

    /// `wait(timeout:)` for async callers: the same answer, without holding a thread of Swift's
    /// small cooperative pool for the whole wait (a hook may take seconds).
    public func exited(within timeout: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let state = lock.withLock { (status: exitStatus, closed: outputClosed) }
            if state.closed, let status = state.status { return status }
            if clock.now >= deadline { return nil }
            // Not cancelled with the caller: a shutdown still waits for the child it stops.
            await Task { try? await clock.sleep(for: .milliseconds(10)) }.value
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace` seconds.
    public func stop(grace: TimeInterval = 5) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        if wait(timeout: grace) == nil {
            kill(pid, SIGKILL)
            wait(timeout: 5)
        }
    }

    /// `stop(grace:)` for async callers.
    public func terminate(grace: Duration = .seconds(5)) async {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        if await exited(within: grace) == nil {
            kill(pid, SIGKILL)
            _ = await exited(within: .seconds(5))
        }
    }
}
