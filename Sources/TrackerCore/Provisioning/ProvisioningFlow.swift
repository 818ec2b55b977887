
/// AWS IoT fleet provisioning as a state machine: events in, actions out, no I/O.
///
/// connect with the claim → subscribe to the create step's /accepted and /rejected, wait for
/// the SUBACK → CreateCertificateFromCsr (or CreateKeysAndCertificate) → store the certificate
/// as pending → subscribe to RegisterThing's replies → RegisterThing with the ownership token
/// and parameters → complete. Every wait has a deadline (`stepTimeout`); a timeout, a lost
/// connection, throttling or a 5xx asks for a retry (the adapter waits its backoff, then sends
/// `start` again); any other 4xx fails for good. A pending certificate whose token is still
/// valid is resumed at RegisterThing instead of starting over.
public struct ProvisioningFlow: Sendable {
    public enum Method: Sendable, Equatable {
        /// CreateCertificateFromCsr with this PEM CSR: the private key never leaves the device.
        case csr(String)
        /// CreateKeysAndCertificate: AWS makes the key and sends it.
        case createKeys
    }

    public enum Event: Sendable, Equatable {
        /// Begin (or begin again after a retry's delay); `now` is wall-clock time.
        case start(now: UTCTimestamp)
        case connected
        /// Every topic of the last `subscribe` action is acknowledged.
        case subscribed
        case message(topic: String, payload: [UInt8])
        /// The timer of that generation ran out.
        case timeout(generation: Int)
        /// The last store action is durable.
        case stored
        case disconnected(reason: String)
    }

    public enum Action: Sendable, Equatable {
        case connectWithClaim
        case subscribe([String])
        case publish(topic: String, payload: [UInt8])
        /// Send `timeout(generation:)` after `duration`, unless a newer timer replaces it.
        case startTimer(generation: Int, duration: Duration)
        case storePending(PendingCertificate)
        /// Forget the pending certificate (its token is no longer any good).
        case discardPending
        /// Store the record, promote pending to active, reconnect with the unique certificate.
        case complete(ProvisioningResult)
        /// Wait (backoff), then send `start` again.
        case retry(reason: String)
        case fail(ProvisioningFailure)
        case log(String)
    }

    public enum State: Sendable, Equatable {
        case idle
        case connecting
        case subscribingCreate
        case awaitingCertificate
        case storingPending
        case subscribingRegister
        case awaitingRegistration
        case waitingToRetry
        case done(ProvisioningResult)
        case failed(ProvisioningFailure)
    }

    public let method: Method
    public let template: String
    public let parameters: [String: String]
    public let stepTimeout: Duration
    public private(set) var state: State = .idle
    public private(set) var pending: PendingCertificate?
    private var attemptStartedAt = UTCTimestamp(millisecondsSinceEpoch: 0)
    private var timerGeneration = 0

    public init(method: Method, template: String, parameters: [String: String], pending: PendingCertificate? = nil,
                stepTimeout: Duration = .seconds(10)) {
        self.method = method
        self.template = template
        self.parameters = parameters
        self.pending = pending
        self.stepTimeout = stepTimeout
    }

    var createTopic: String {
        switch method {
        case .csr: ProvisioningTopics.createCertificateFromCSR
        case .createKeys: ProvisioningTopics.createKeysAndCertificate
        }
    }

    var createStepName: String {
        switch method {
        case .csr: "CreateCertificateFromCsr"
        case .createKeys: "CreateKeysAndCertificate"
        }
    }

    var registerTopic: String { ProvisioningTopics.registerThing(template: template) }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.done, _), (.failed, _):
            return []

        case (_, .start(let now)):
            attemptStartedAt = now
            if let pending, !pending.isUsable(at: now) {
                self.pending = nil
                state = .connecting
                return [.discardPending, .log("the pending certificate's ownership token is over an hour old; starting over"),
                        .connectWithClaim]
            }
            state = .connecting
            return [.connectWithClaim]

        case (.connecting, .connected):
            if let pending {
                state = .subscribingRegister
                return [.log("resuming with the pending certificate \(pending.certificateId): RegisterThing"),
                        .subscribe(replyTopics(registerTopic)), timer()]
            }
            state = .subscribingCreate
            return [.subscribe(replyTopics(createTopic)), timer()]

        case (.subscribingCreate, .subscribed):
            state = .awaitingCertificate
            return [.publish(topic: createTopic, payload: createRequest()), timer()]

        case (.awaitingCertificate, .message(let topic, let payload)):
            return certificateReply(topic, payload)

        case (.storingPending, .stored):
            state = .subscribingRegister
            return [.subscribe(replyTopics(registerTopic)), timer()]

        case (.subscribingRegister, .subscribed):
            guard let pending else { return retry("no pending certificate to register") }
            state = .awaitingRegistration
            let request = RegisterThingRequest(certificateOwnershipToken: pending.ownershipToken, parameters: parameters)
            return [.publish(topic: registerTopic, payload: encode(request)), timer()]

        case (.awaitingRegistration, .message(let topic, let payload)):
            return registrationReply(topic, payload)

        case (_, .timeout(let generation)):
            guard generation == timerGeneration, isWaiting else { return [] }
            return retry("no answer within \(Int(stepTimeout.seconds)) s (\(stepDescription))")

        case (_, .disconnected(let reason)):
            guard isWaiting || state == .connecting else { return [] }
            return retry("connection lost during \(stepDescription): \(reason)")

        default:
            return []
        }
    }

    private var isWaiting: Bool {
        switch state {
        case .subscribingCreate, .awaitingCertificate, .subscribingRegister, .awaitingRegistration: true
        default: false
        }
    }

    private var stepDescription: String {
        switch state {
        case .subscribingCreate: "subscribing to \(createStepName)'s replies"
        case .awaitingCertificate: createStepName
        case .subscribingRegister: "subscribing to RegisterThing's replies"
        case .awaitingRegistration: "RegisterThing"
        case .connecting: "connecting with the claim certificate"
        default: "provisioning"
        }
    }

    private mutating func timer() -> Action {
        timerGeneration += 1
        return .startTimer(generation: timerGeneration, duration: stepTimeout)
    }

    private mutating func retry(_ reason: String) -> [Action] {
        state = .waitingToRetry
        timerGeneration += 1
        return [.retry(reason: reason)]
    }

    private func replyTopics(_ topic: String) -> [String] {
        [ProvisioningTopics.accepted(topic), ProvisioningTopics.rejected(topic)]
    }

    private func createRequest() -> [UInt8] {
        switch method {
        case .csr(let pem): encode(CreateCertificateFromCSRRequest(certificateSigningRequest: pem))
        case .createKeys: Array("{}".utf8)
        }
    }

    private mutating func certificateReply(_ topic: String, _ payload: [UInt8]) -> [Action] {
        if topic == ProvisioningTopics.rejected(createTopic) {
            return rejected(step: createStepName, payload)
        }
        guard topic == ProvisioningTopics.accepted(createTopic) else { return [] }
        guard let reply = decode(CreateCertificateResponse.self, payload) else {
            return retry("\(createStepName) answered with a reply that is not AWS's format")
        }
        if case .createKeys = method, reply.privateKey == nil {
            state = .failed(.missingPrivateKey)
            return [.fail(.missingPrivateKey)]
        }
        let certificate = PendingCertificate(certificateId: reply.certificateId, certificatePem: reply.certificatePem,
                                             privateKey: reply.privateKey, ownershipToken: reply.certificateOwnershipToken,
                                             requestedAt: attemptStartedAt)
        pending = certificate
        state = .storingPending
        timerGeneration += 1
        return [.log("\(createStepName) accepted: certificate \(reply.certificateId)"), .storePending(certificate)]
    }

    private mutating func registrationReply(_ topic: String, _ payload: [UInt8]) -> [Action] {
        if topic == ProvisioningTopics.rejected(registerTopic) {
            if let rejection = decode(ProvisioningRejection.self, payload), !rejection.isRetryable,
               (rejection.errorCode + rejection.errorMessage).lowercased().contains("token") {
                // An expired or unknown ownership token: the pending certificate is worthless.
                pending = nil
                return [.discardPending] + retry("RegisterThing refused the ownership token (\(rejection)); requesting a new certificate")
            }
            return rejected(step: "RegisterThing", payload)
        }
        guard topic == ProvisioningTopics.accepted(registerTopic), let pending else { return [] }
        guard let reply = decode(RegisterThingResponse.self, payload) else {
            return retry("RegisterThing answered with a reply that is not AWS's format")
        }
        let result = ProvisioningResult(thingName: reply.thingName, deviceConfiguration: reply.deviceConfiguration,
                                        certificateId: pending.certificateId, provisionedAt: attemptStartedAt)
        state = .done(result)
        timerGeneration += 1
        return [.log("RegisterThing accepted: thing \(reply.thingName)"), .complete(result)]
    }

    private mutating func rejected(step: String, _ payload: [UInt8]) -> [Action] {
        guard let rejection = decode(ProvisioningRejection.self, payload) else {
            return retry("\(step) was rejected with an unreadable reply")
        }
        if rejection.isRetryable {
            return [.log("\(step) rejected: \(rejection)")] + retry("\(step) rejected (\(rejection.errorCode)); trying again")
        }
        let failure = ProvisioningFailure.rejected(step: step, rejection)
        state = .failed(failure)
        timerGeneration += 1
        return [.fail(failure)]
    }

    private func encode(_ value: some Encodable) -> [UInt8] {
        (try? JSONCodec.encode(value)) ?? Array("{}".utf8)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ payload: [UInt8]) -> T? {
        try? JSONCodec.decode(type, from: payload)
    }
}
