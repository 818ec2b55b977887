import Foundation
import Logging
import Synchronization
import TrackerCore
import TrackerCrypto
import TrackerMQTT

/// Answers AWS IoT fleet provisioning's MQTT API on the broker, with AWS's topics and payloads:
/// CreateKeysAndCertificate, CreateCertificateFromCsr and RegisterThing, each on
/// `<topic>/accepted` or `<topic>/rejected` (`{"statusCode","errorCode","errorMessage"}`).
public final class ProvisioningService: Sendable {
    public struct Options: Sendable {
        /// Reject every Nth request with 429 Throttling (0: never), to exercise clients' retries.
        public var throttleEvery = 0
        /// An executable given AWS's pre-provisioning hook input on stdin; it must answer
        /// `{"allowProvisioning": true|false}` within 5 s.
        public var preProvisioningHook: String?
        public var tokenLifetime: TimeInterval = 3600
        /// AWS gives a pre-provisioning hook 5 s.
        public var hookTimeout: TimeInterval = 5
        /// How long the device certificates it signs are valid (`localcloud init --cert-days`).
        public var certificateDays = 365
        public init() {}
    }

    struct IssuedToken: Sendable {
        let certificateId: String
        let certificatePem: String
        let identity: String
        let issuedAt: Date
    }

    private let connection: MQTTConnection
    private let authority: CertificateAuthority
    private let templates: [String: ProvisioningTemplate]
    private let registry: ThingRegistry
    private let options: Options
    private let logger: Logger
    private let onRegistered: @Sendable (ThingRegistry.Thing) -> Void
    /// The client id that published a request (topic, payload size), from the broker's log.
    private let requester: @Sendable (String, Int) async -> String?
    /// Says who a reply is for before it is published (the broker delivers it to that client only).
    private let route: @Sendable ([UInt8], String) -> Void
    /// The client whose request is being answered.
    @TaskLocal static var answering: String?
    private let tokens = Mutex<[String: IssuedToken]>([:])
    private let requestCount = Atomic<Int>(0)

    public static let requestTopics = [
        ProvisioningTopics.createKeysAndCertificate,
        ProvisioningTopics.createCertificateFromCSR,
        "$aws/provisioning-templates/+/provision/json",
    ]

    public init(connection: MQTTConnection, authority: CertificateAuthority, templates: [ProvisioningTemplate],
                registry: ThingRegistry, options: Options = Options(), logger: Logger,
                requester: @escaping @Sendable (String, Int) async -> String? = { _, _ in nil },
                route: @escaping @Sendable ([UInt8], String) -> Void = { _, _ in },
                onRegistered: @escaping @Sendable (ThingRegistry.Thing) -> Void = { _ in }) {
        self.requester = requester
        self.route = route
        self.connection = connection
        self.authority = authority
        self.templates = Dictionary(templates.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.registry = registry
        self.options = options
        self.logger = logger
        self.onRegistered = onRegistered
    }

    /// Serves until the task is cancelled. Calls `ready` once the request topics are subscribed.
    public func run(ready: @Sendable () -> Void = {}) async {
        await RequestSubscription.serve(connection, topics: Self.requestTopics, name: "fleet provisioning", logger: logger,
                                        ready: ready) { topic, payload in
            let client = await requester(topic, payload.count)
            await Self.$answering.withValue(client) { await handle(topic: topic, payload: payload) }
        }
    }

    func handle(topic: String, payload: [UInt8]) async {
        let count = requestCount.add(1, ordering: .relaxed).newValue
        if options.throttleEvery > 0 && count % options.throttleEvery == 0 {
            return reject(topic, 429, "Throttling", "Rate exceeded")
        }
        switch topic {
        case ProvisioningTopics.createKeysAndCertificate:
            createKeys(topic)
        case ProvisioningTopics.createCertificateFromCSR:
            createFromCSR(topic, payload)
        default:
            let parts = topic.split(separator: "/")
            if parts.count == 5, parts[0] == "$aws", parts[1] == "provisioning-templates", parts[3] == "provision", parts[4] == "json" {
                await registerThing(topic, template: String(parts[2]), payload)
            }
        }
    }

    private func createKeys(_ topic: String) {
        do {
            let identity = "device-" + UUID().uuidString.lowercased()
            let issued = try authority.issueKeysAndCertificate(commonName: identity, days: options.certificateDays)
            let token = issue(certificate: issued.certificate, identity: identity)
            reply(topic, CreateCertificateResponse(certificateId: token.certificateId, certificatePem: issued.certificate,
                                                   privateKey: issued.key, certificateOwnershipToken: token.token))
        } catch {
            reject(topic, 500, "InternalFailure", "\(error)")
        }
    }

    private func createFromCSR(_ topic: String, _ payload: [UInt8]) {
        guard let request = try? JSONDecoder().decode(CreateCertificateFromCSRRequest.self, from: Data(payload)) else {
            return reject(topic, 400, "InvalidPayload", "The request is not a CreateCertificateFromCsr request")
        }
        let certificate: String
        do {
            certificate = try authority.sign(csrPEM: request.certificateSigningRequest, days: options.certificateDays)
        } catch {
            return reject(topic, 400, "InvalidCSR", "The certificate signing request is not valid: \(error)")
        }
        let identity = Self.commonName(certificate) ?? "unknown"
        let token = issue(certificate: certificate, identity: identity)
        reply(topic, CreateCertificateResponse(certificateId: token.certificateId, certificatePem: certificate,
                                               certificateOwnershipToken: token.token))
    }

    private func registerThing(_ topic: String, template name: String, _ payload: [UInt8]) async {
        guard let request = try? JSONDecoder().decode(RegisterThingRequest.self, from: Data(payload)) else {
            return reject(topic, 400, "InvalidPayload", "The request is not a RegisterThing request")
        }
        guard let issued = tokens.withLock({ $0[request.certificateOwnershipToken] }),
              Date().timeIntervalSince(issued.issuedAt) < options.tokenLifetime else {
            tokens.withLock { $0[request.certificateOwnershipToken] = nil }
            return reject(topic, 400, "InvalidCertificateOwnershipToken", "The certificate ownership token is invalid or has expired")
        }
        guard let template = templates[name] else {
            return reject(topic, 404, "ResourceNotFound", "The provisioning template \(name) does not exist")
        }
        var parameters = request.parameters
        if let hook = options.preProvisioningHook {
            logger.info("running the pre-provisioning hook for certificate \(issued.certificateId)")
            switch await runHook(hook, template: name, certificate: issued, parameters: parameters) {
            case .allow(let overrides): parameters.merge(overrides) { $1 }
            case .deny(let reason): return reject(topic, 403, "AccessDenied", "The pre-provisioning hook denied the request: \(reason)")
            }
        }
        let outcome: ProvisioningTemplate.Outcome
        do {
            outcome = try template.evaluate(parameters: parameters, certificateId: issued.certificateId)
        } catch {
            return reject(topic, 400, "InvalidParameters", "\(error)")
        }
        let thing = ThingRegistry.Thing(thingName: outcome.thingName, certificateId: issued.certificateId, identity: issued.identity,
                                        attributes: outcome.attributes, policyName: outcome.policyName,
                                        registeredAt: ISO8601DateFormatter().string(from: Date()),
                                        serial: CertificateAuthority.serial(of: issued.certificatePem))
        do {
            try registry.register(thing)
        } catch {
            return reject(topic, 500, "InternalFailure", "cannot save the registry: \(error)")
        }
        tokens.withLock { $0[request.certificateOwnershipToken] = nil }
        logger.info("registered thing \(outcome.thingName) with certificate \(issued.certificateId)")
        onRegistered(thing)
        reply(topic, RegisterThingResponse(thingName: outcome.thingName, deviceConfiguration: outcome.deviceConfiguration))
    }

    private func issue(certificate: String, identity: String) -> (certificateId: String, token: String) {
        let certificateId = DeviceKeys.info(certificate)?.certificateId ?? UUID().uuidString
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        let issued = IssuedToken(certificateId: certificateId, certificatePem: certificate, identity: identity, issuedAt: Date())
        tokens.withLock { $0[token] = issued }
        logger.info("issued certificate \(certificateId) for \(identity)")
        return (certificateId, token)
    }

    private func reply(_ topic: String, _ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = (try? encoder.encode(value)).map(Array.init) ?? []
        send(ProvisioningTopics.accepted(topic), payload)
    }

    private func reject(_ topic: String, _ status: Int, _ code: String, _ message: String) {
        logger.notice("rejected \(topic): \(status) \(code): \(message)")
        let rejection = ProvisioningRejection(statusCode: status, errorCode: code, errorMessage: message)
        let payload = (try? JSONEncoder().encode(rejection)).map(Array.init) ?? []
        send(ProvisioningTopics.rejected(topic), payload)
    }

    /// To the client that asked: routed first, then published. A request whose publisher the
    /// broker's log did not name is answered to nobody; the device times out and asks again.
    private func send(_ topic: String, _ payload: [UInt8]) {
        if let client = Self.answering {
            route(payload, client)
        } else {
            logger.warning("the client of a request on \(topic) is not known: its reply reaches no device")
        }
        _ = connection.publish(topic: topic, payload: payload)
    }

    enum HookVerdict { case allow([String: String]), deny(String) }

    private func runHook(_ executable: String, template: String, certificate: IssuedToken, parameters: [String: String]) async -> HookVerdict {
        let input: [String: Any] = [
            "claimCertificateId": "localcloud-claim",
            "certificateId": certificate.certificateId,
            "certificatePem": certificate.certificatePem,
            "templateArn": "arn:aws:iot:local:000000000000:provisioningtemplate/\(template)",
            "clientId": certificate.identity,
            "parameters": parameters,
        ]
        let lines = CollectedLines()
        let hook: SpawnedProcess
        do {
            let input = (try? JSONSerialization.data(withJSONObject: input)).map(Array.init) ?? []
            hook = try SpawnedProcess(executable, [], stdin: input, stderrToParent: true) { line in
                lines.append(line)
            }
        } catch {
            return .deny("cannot run \(executable): \(error)")
        }
        guard await hook.exited(within: .milliseconds(Int64(options.hookTimeout * 1000))) != nil else {
            await hook.terminate(grace: .milliseconds(500))
            return .deny("the hook did not answer within \(Int(options.hookTimeout)) s")
        }
        let output = Data(lines.joined.utf8)
        guard let answer = try? JSONSerialization.jsonObject(with: output) as? [String: Any],
              let allow = answer["allowProvisioning"] as? Bool else {
            return .deny("the hook's answer is not {\"allowProvisioning\": ...}")
        }
        return allow ? .allow(answer["parameterOverrides"] as? [String: String] ?? [:]) : .deny("allowProvisioning is false")
    }

    static func commonName(_ certificatePEM: String) -> String? {
        DeviceKeys.commonName(certificatePEM)
    }
}

/// A hook's output lines, appended on the process's reader thread and read once it has exited.
private final class CollectedLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var joined: String { lines.withLock { $0.joined(separator: "\n") } }
}
