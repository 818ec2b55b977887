/// localcloud: AWS IoT Core's fleet provisioning on a real Mosquitto, for tests, demos and
/// self-hosters. `init DIR` makes the PKI, template and a trackerd configuration; `serve DIR`
/// runs the broker and answers.
import ArgumentParser
import Foundation
import Logging
import LocalCloud
import ServiceLifecycle
import TrackerCore
import TrackerSystem
#if canImport(Glibc)
import Glibc
#endif

@main
struct LocalCloudCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localcloud",
        abstract: "AWS IoT fleet provisioning on a local Mosquitto.",
        subcommands: [Init.self, Serve.self, Shadow.self, Job.self]
    )

    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list or describe jobs (AWS IoT Jobs) for things of this localcloud.",
            discussion: """
            localcloud job DIR create --thing T [--thing T2 ...] --document FILE [--job-id ID]
            localcloud job DIR list
            localcloud job DIR describe JOB
            A created job is QUEUED for each thing; when `localcloud serve` runs, each thing is told at once (notify-next).
            """)
        enum Action: String, ExpressibleByArgument, CaseIterable { case create, list, describe }

        @Argument var directory: String
        @Argument var action: Action
        @Argument(help: "The job (describe).") var jobId: String?
        @Option(help: "A thing the job is for (repeatable).") var thing: [String] = []
        @Option(help: "The job document (JSON; a file, or - for standard input).") var document: String?
        @Option(name: .customLong("job-id"), help: "The new job's id (default: made up).") var newJobId: String?
        @Option(help: "The MQTT/TLS port localcloud serves on.") var port = 8883

        func run() async throws {
            LoggingSystem.bootstrap { StderrLogHandler(label: $0, level: .warning) }
            let client = JobsClient(directory: LocalCloudDirectory(directory), port: port, logger: Logger(label: "localcloud"))
            switch action {
            case .create:
                guard let document else { throw ValidationError("create needs --document FILE") }
                let data = document == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: document))
                guard let value = JSONValue.parse(Array(data)) else { throw ValidationError("--document \(document) is not JSON") }
                let (id, notified) = try await client.create(jobId: newJobId, document: value, things: thing)
                print("job \(id) QUEUED for \(thing.joined(separator: ", "))" + (notified ? "" : " (localcloud is not serving: each thing finds it at its next connection)"))
            case .list:
                for id in client.store.jobIds() {
                    let executions = client.store.executions(of: id).sorted { $0.key < $1.key }
                    print("\(id) " + executions.map { "\($0.key)=\($0.value.status)" }.joined(separator: " "))
                }
            case .describe:
                guard let jobId, let document = client.store.document(jobId) else {
                    throw ValidationError("describe needs the id of an existing job")
                }
                print("job \(jobId): " + String(decoding: document.bytes, as: UTF8.self))
                for (thing, execution) in client.store.executions(of: jobId).sorted(by: { $0.key < $1.key }) {
                    let details = execution.statusDetails.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                    print("\(thing): \(execution.status) (version \(execution.versionNumber))" + (details.isEmpty ? "" : ": " + details))
                }
            }
        }
    }

    struct Shadow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a thing's trackerd shadow, or update its desired state, through a running `localcloud serve`.",
            discussion: "Prints the answer as AWS IoT Core gives it (get/accepted, update/accepted or the rejection); exit 1 on a rejection.")
        @Argument var directory: String
        @Argument var thing: String
        @Option(help: "The MQTT/TLS port localcloud serves on.") var port = 8883
        @Option(help: "A JSON desired state to write (a file, or - for standard input).") var desired: String?

        func run() async throws {
            LoggingSystem.bootstrap { StderrLogHandler(label: $0, level: .warning) }
            var state: JSONValue?
            if let desired {
                let data = desired == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: desired))
                guard let value = JSONValue.parse(Array(data)), case .object = value else {
                    throw ValidationError("--desired \(desired) is not a JSON object")
                }
                state = value
            }
            let client = ShadowClient(directory: LocalCloudDirectory(directory), port: port, logger: Logger(label: "localcloud"))
            let (suffix, payload) = try await client.request(thing: thing, desired: state)
            print(suffix + " " + String(decoding: payload, as: UTF8.self))
            if suffix.hasSuffix("rejected") { throw ExitCode(1) }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a CA, broker and claim certificates, the default template and DIR/trackerd.toml.")
        @Argument var directory: String
        @Option(help: "The MQTT/TLS port trackerd.toml points at.") var port = 8883
        @Option(help: "How many days the device certificates it issues are valid (AWS: until 2049; short ones exercise rotation).")
        var certDays = 365

        func validate() throws {
            guard (1...36500).contains(certDays) else { throw ValidationError("--cert-days must be 1 to 36500") }
        }

        func run() throws {
            try LocalCloudDirectory(directory).initialize(port: port, certificateDays: certDays)
            print("localcloud initialised in \(directory): CA ca/ca.pem, claim claim/, template templates/iotDeviceTemplateName.json, trackerd.toml")
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run Mosquitto and answer fleet provisioning until SIGTERM/SIGINT.",
            discussion: "Also serves the dashboard on http://127.0.0.1:8080/ (--http-port): things, tracks, zones and live events.")
        @Argument var directory: String
        @Option(help: "The MQTT/TLS port.") var port = 8883
        @Option(help: "Reject every Nth provisioning request with 429 (0: never).") var throttleEvery = 0
        @Option(help: "A pre-provisioning hook executable (AWS's hook input on stdin).") var preProvisioningHook: String?
        @Option(help: "Seconds the hook has to answer (AWS: 5).") var hookTimeout: Double = 5
        @Option(help: "POST every geofence event to this URL (repeatable); retried with backoff.") var webhook: [String] = []
        @Option(help: "AWS IoT Core's limits (100 publishes/s per connection, 128 KB, topic depth): warn logs each breach, strict also disconnects the offender.")
        var awsLimits: LocalCloudServer.AWSLimitMode = .warn
        @Option(help: "Where DIR/files/ is served over HTTPS for job payloads (default: --port + 1).") var filesPort: Int?
        @Option(help: "Serve each job file at most this many bytes per second (0: no limit), to watch or cut a download.")
        var filesRate = 0
        @Option(help: "The dashboard's port on 127.0.0.1 (the page, the JSON API under /api/, live events); 0: no dashboard.")
        var httpPort = 8080
        @Option(help: "A tile server's URL template for the dashboard's map ({z}/{x}/{y}); without it, a latitude/longitude grid and no internet.")
        var tiles: String?
        @Option(help: "A GeoJSON file of zones the dashboard draws (with those in the things' shadows).")
        var zones: String?
        @Option(help: "Where Leaflet is (Debian's libjs-leaflet).")
        var leaflet = "/usr/share/javascript/leaflet"

        func validate() throws {
            guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be 0 to 65535") }
            if let tiles, !(tiles.hasPrefix("http://") || tiles.hasPrefix("https://")) || !tiles.contains("{z}") {
                throw ValidationError("--tiles \(tiles) is not an http(s) URL template with {z}, {x} and {y}")
            }
        }

        func run() async throws {
            LoggingSystem.bootstrap { StderrLogHandler(label: $0, level: .info) }
            let logger = Logger(label: "localcloud")
            // A hook or client that goes away mid-write must be an error, not a killed server.
            signal(SIGPIPE, SIG_IGN)
            var options = ProvisioningService.Options()
            options.throttleEvery = throttleEvery
            options.preProvisioningHook = preProvisioningHook
            options.hookTimeout = hookTimeout
            options.certificateDays = LocalCloudDirectory(directory).certificateDays
            var urls: [URL] = []
            for text in webhook {
                guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
                    throw ValidationError("--webhook \(text) is not an http(s) URL")
                }
                urls.append(url)
            }
            let server = LocalCloudServer(directory: LocalCloudDirectory(directory), port: port, options: options,
                                          webhooks: urls, awsLimits: awsLimits, filesPort: filesPort, filesRate: filesRate,
                                          httpPort: httpPort == 0 ? nil : httpPort,
                                          dashboard: .init(pageDirectory: Dashboard.Settings.bundledPage, leafletDirectory: leaflet, tiles: tiles),
                                          zonesFile: zones, logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: ServerService(server: server), successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

struct ServerService: Service {
    let server: LocalCloudServer

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await server.run() }
    }
}

extension AWSLimitWatch.Mode: ExpressibleByArgument {}
