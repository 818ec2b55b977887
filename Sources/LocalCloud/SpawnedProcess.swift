import Foundation
import Synchronization
import SystemPackage

/// A child process started with posix_spawn and reaped with waitpid on a thread of its own.
///
/// Not Foundation's Process: its children inherit the signal mask of whatever pool thread
/// started them (Swift's threads block signals), so a Mosquitto started that way ignores
/// SIGTERM; and its exit monitoring was seen not to fire here. Here the child starts with an
/// empty mask and default dispositions.
public final class SpawnedProcess: Sendable {
    public let pid: pid_t
    /// The wait status once reaped, and whether the output has been read to its end.
    private let state = Mutex<(exitStatus: Int32?, outputClosed: Bool)>((nil, false))

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
            self.state.withLock { $0.outputClosed = true }
        }
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
            state.withLock { $0.exitStatus = status }
        }
    }

    public var isRunning: Bool { state.withLock { $0.exitStatus == nil } }

    /// The raw wait status once the process has exited and its output is read to the end; nil
    /// if that has not happened within `timeout`. Awaited, so no thread of Swift's small
    /// cooperative pool is held for the wait (a hook may take seconds).
    public func exited(within timeout: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let (status, closed) = state.withLock { $0 }
            if closed, let status { return status }
            if clock.now >= deadline { return nil }
            // Not cancelled with the caller: a shutdown still waits for the child it stops.
            await Task { try? await clock.sleep(for: .milliseconds(10)) }.value
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    public func terminate(grace: Duration = .seconds(5)) async {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        if await exited(within: grace) == nil {
            kill(pid, SIGKILL)
            _ = await exited(within: .seconds(5))
        }
    }
}
