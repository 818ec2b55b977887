import Foundation

/// A real Mosquitto broker for one test: TLS on a free loopback port, client certificates
/// required, the certificate's CN as the user name. Started and stopped (by PID) by the test.
public final class MosquittoBroker {
    public let port: Int
    public let pki: TestPKI
    public let configPath: String
    public private(set) var process: ChildProcess?

    public static let executable = "/usr/sbin/mosquitto"

    /// `serverCertificate`: the base name of the broker's certificate in the PKI
    /// (`server`, `wronghost`, `expired`).
    /// `persistence`: sessions and queued messages survive a restart of the broker.
    /// `packets`: its log names every packet ("Sending PUBACK to ..."), for a test to wait on.
    public init(pki: TestPKI, serverCertificate: String = "server", port: Int = LoopbackPort.free(),
                persistence: Bool = false, packets: Bool = false) throws {
        self.pki = pki
        self.port = port
        configPath = pki.path("mosquitto-\(port).conf")
        let user = getuid() == 0 ? "user root\n" : ""
        let config = """
        \(user)per_listener_settings false
        persistence \(persistence)
        persistence_location \(pki.directory.path)/
        log_dest stderr
        log_type error
        log_type warning
        log_type notice
        log_type information
        \(packets ? "log_type debug" : "")
        connection_messages true
        allow_anonymous false
        listener \(port) 127.0.0.1
        cafile \(pki.path("ca.pem"))
        certfile \(pki.path(serverCertificate + ".pem"))
        keyfile \(pki.path(serverCertificate + ".key"))
        require_certificate true
        use_identity_as_username true
        max_inflight_messages 100
        max_queued_messages 200000

        """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts the broker and waits until it says it is running.
    public func start() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "mosquitto missing: make test installs it"])
        }
        let broker = try ChildProcess(Self.executable, ["-c", configPath])
        process = broker
        let ready = await broker.stderrLines.wait(timeout: .seconds(10)) { lines in
            lines.contains { $0.contains(" running") }
        }
        guard ready else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "mosquitto did not start: \(broker.stderrLines.items)"])
        }
    }

    /// Stops the broker (SIGTERM) and waits for it to exit.
    public func stop() async {
        guard let process else { return }
        process.signal(SIGTERM)
        _ = await process.waitForExit(timeout: .seconds(5))
        process.stop()
        self.process = nil
    }

    /// A subscriber (mosquitto_sub) with its own client certificate, printing `topic payload`.
    /// `persistentSession`: a clean-session-false subscriber whose messages the broker keeps
    /// while it is away (with `persistence`, across a broker restart too).
    public func subscribe(_ topic: String, clientID: String = "test-subscriber",
                          persistentSession: Bool = false) async throws -> ChildProcess {
        try await subscribe([topic], clientID: clientID, persistentSession: persistentSession)
    }

    /// One subscriber to several topics.
    public func subscribe(_ topics: [String], clientID: String = "test-subscriber",
                          persistentSession: Bool = false) async throws -> ChildProcess {
        // stdbuf: mosquitto_sub's stdout is a pipe here, and stdio would hold its lines back.
        let subscriber = try ChildProcess("/usr/bin/stdbuf", [
            "-oL", "/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", String(port), "--cafile", pki.path("ca.pem"),
            "--cert", pki.path("client.pem"), "--key", pki.path("client.key"),
            "-i", clientID, "-q", "1", "-v", "-d",
        ] + topics.flatMap { ["-t", $0] } + (persistentSession ? ["-c"] : []))
        let subscribed = await subscriber.stdoutLines.wait(timeout: .seconds(10)) { lines in
            lines.contains { $0.contains("SUBACK") }
        }
        guard subscribed else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "mosquitto_sub did not subscribe: \(subscriber.stderrLines.items)"])
        }
        return subscriber
    }

    deinit { process?.stop() }
}
