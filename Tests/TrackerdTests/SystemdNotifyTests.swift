import Foundation
import Testing
import TestSupport
@testable import TrackerSystem

/// What trackerd tells systemd, received on a datagram socket the test owns as NOTIFY_SOCKET.
@Suite struct SystemdNotifyTests {
    @Test func readyStatusWatchdogAndStopping() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let socket = try NotifySocket(directory: dir)
        defer { socket.close() }
        let run = try TrackerdBinary.start(["run", "--replay", TrackerdBinary.seedDrive.path],
                                           environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"])
        #expect(await socket.messages.wait(timeout: .seconds(20)) { $0.contains { $0.hasPrefix("READY=1\nSTATUS=running") } })
        #expect(await socket.messages.wait(timeout: .seconds(20)) { $0.filter { $0 == "WATCHDOG=1" }.count >= 3 },
                "WATCHDOG=1 about every 0.5 s")
        #expect(await socket.messages.wait(timeout: .seconds(20)) { messages in
            messages.contains { $0.hasPrefix("STATUS=not publishing (no [mqtt] endpoint); last fix") && $0.contains("(3D, 9 sats)") }
        }, "\(socket.messages.items.suffix(3))")
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(3)) == 0)
        #expect(await socket.messages.wait(timeout: .seconds(2)) { $0.contains { $0.hasPrefix("STOPPING=1") } })
    }

    @Test func theEnvironmentDecidesWhatIsSent() {
        #expect(SystemdNotifier(environment: [:]).notify("READY=1") == false)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000"]).watchdogInterval == .seconds(2))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"]).watchdogInterval == nil,
                "the watchdog is another process's")
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@abstract"]).socketPath == "@abstract")
    }
}
