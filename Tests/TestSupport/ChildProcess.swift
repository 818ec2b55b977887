import CTestSupport
import Foundation

/// A process a test starts, with its output as events and cleanup by PID: whatever happens in
/// the test, `stop()` (called from `deinit` too) kills the process and reaps it. Each child leads
/// a process group of its own, killed when the child is reaped: what it started (localcloud's
/// Mosquitto, gpsfake's gpsd) never outlives it.
///
/// Built on posix_spawn, a reader thread per pipe and a waitpid thread, so exit and output are
/// events a test can wait on with a deadline.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let stdoutLines = EventLog<String>()
    public let stderrLines = EventLog<String>()
    private let finished = EventLog<String>()
    private let status = EventLog<Int32>()
    private let exitInstants = EventLog<ContinuousClock.Instant>()
    private let exited = DispatchSemaphore(value: 0)

    public struct SpawnError: Error, CustomStringConvertible {
        public let executable: String
        public let errno: Int32
        public var description: String { "cannot start \(executable): \(String(cString: strerror(errno)))" }
    }

    /// `stdinPath`: a file to read as standard input (default /dev/null); a FIFO opened with
    /// `stdinFlags: O_RDWR` is an input that never ends.
    /// `stderrPath`: a file to write standard error to instead of capturing it.
    /// `descriptors`: more of the test's descriptors the child gets, at these numbers (a pipe
    /// at 3 and 4 for Chromium's --remote-debugging-pipe).
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                stdinPath: String = "/dev/null", stdinFlags: Int32 = O_RDONLY, stderrPath: String? = nil,
                descriptors: [(from: Int32, to: Int32)] = []) throws {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard trackerd_test_pipe_cloexec(&outPipe) == 0, trackerd_test_pipe_cloexec(&errPipe) == 0 else {
            throw SpawnError(executable: executable, errno: errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, stdinFlags, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        }
        for (from, to) in descriptors { posix_spawn_file_actions_adddup2(&actions, from, to) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The spawning thread may be one of Swift's pool threads, which block signals; a child
        // inherits that mask, and a gpsd that cannot see SIGTERM never stops. Start it clean.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard result == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw SpawnError(executable: executable, errno: result)
        }
        pid = child
        let spawned = child
        print("started pid \(child): \(executable) \(arguments.joined(separator: " "))")
        Self.readLines(outPipe[0], into: stdoutLines, finished, "stdout")
        if stderrPath == nil {
            Self.readLines(errPipe[0], into: stderrLines, finished, "stderr")
        } else {
            close(errPipe[0])
            finished.append("stderr")
        }
        let status = self.status, finished = self.finished, exited = self.exited, exitInstants = self.exitInstants
        Thread.detachNewThread {
            var code: Int32 = 0
            while waitpid(spawned, &code, 0) < 0 && errno == EINTR {}
            // What it left behind goes now, while the group still holds its number (a pid is
            // not reused while a process group of that number exists; later it could be).
            kill(-spawned, SIGKILL)
            exitInstants.append(.now)
            status.append(code)
            finished.append("exit")
            exited.signal()
        }
    }

    private static func readLines(_ fd: Int32, into lines: EventLog<String>, _ finished: EventLog<String>, _ name: String) {
        Thread.detachNewThread {
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                buffer += chunk[0..<n]
                while let newline = buffer.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
            }
            if !buffer.isEmpty { lines.append(String(decoding: buffer, as: UTF8.self)) }
            close(fd)
            finished.append(name)
        }
    }

    public var isRunning: Bool { status.items.isEmpty }

    /// When the process was reaped, read on the reaper's own thread: a measure of how long the
    /// process took that does not depend on how busy the test's own task pool is.
    public var exitedAt: ContinuousClock.Instant? { exitInstants.items.first }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// The exit status (or 128 + signal) once the process has exited and its output is read to
    /// the end; nil if that did not happen before the deadline.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let done = await finished.wait(timeout: timeout) { events in
            events.contains("exit") && events.contains("stdout") && events.contains("stderr")
        }
        guard done, let code = status.items.first else { return nil }
        let signal = code & 0x7F
        return signal == 0 ? (code >> 8) & 0xFF : 128 + signal
    }

    /// Kills the process and its group (SIGKILL) and waits for it to be reaped. Once it has been
    /// reaped its number may belong to someone else: then there is nothing left to kill.
    public func stop() {
        guard isRunning else { return }
        kill(-pid, SIGKILL)
        if exited.wait(timeout: .now() + 10) == .success { exited.signal() }
    }

    /// A clean stop for teardown (a `defer`, which cannot await): SIGTERM, up to `grace` for
    /// the process to exit by itself, then `stop()`.
    public func terminate(grace: Duration = .seconds(10)) {
        if isRunning {
            kill(pid, SIGTERM)
            let nanoseconds = Int(grace.components.seconds) * 1_000_000_000 + Int(grace.components.attoseconds / 1_000_000_000)
            if exited.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success { exited.signal() }
        }
        stop()
    }

    deinit { stop() }
}
