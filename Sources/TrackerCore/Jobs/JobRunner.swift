/// The tracker's side of AWS IoT Jobs (`$aws/things/{thing}/jobs/...`): one job at a time,
/// from `start-next` to a terminal status, every step kept in a `JobLedger` before it is acted
/// on. No I/O: it asks for downloads, installs and zone sets through its actions, and hears the
/// results as calls.
///
/// The failures it is built against: a job stuck IN_PROGRESS after a restart (the ledger names
/// the step, and `start-next` after every connection returns the job in hand, which resumes); a
/// job run twice (an ended job's id is remembered, and only its status is sent again); a
/// status lost in a reboot (a decided status is kept until the service acknowledges it).
public struct JobRunner: Sendable {
    public enum Action: Sendable, Equatable {
        case publish(topic: String, payload: [UInt8])
        /// Write the ledger (atomically) before anything else.
        case save(JobLedger)
        /// Fetch the job's file (resuming a partial one), then call `downloaded`.
        case download(jobId: String, url: String, size: Int64?)
        /// Hand the verified package to the update unit (it installs, then restarts trackerd).
        case install(jobId: String, version: String)
        /// Read the verified zone set and put it in force, then call `geofencesApplied`.
        case applyGeofences(jobId: String)
        /// Renew the certificate: trackerd restarts and rotates before it connects again.
        case rotateCertificate(jobId: String)
        /// The job's files are no longer needed.
        case removeFiles(jobId: String)
        case log(EngineLogEntry)
    }

    /// What a download came to.
    public enum Download: Sendable, Equatable {
        case complete(size: Int64, sha256: String)
        /// For good (the server refused, or every retry failed).
        case failed(reason: String)
    }

    /// What the update unit wrote about an install it could not complete.
    public struct InstallResult: Codable, Sendable, Equatable {
        public var jobId: String
        public var reason: String

        public init(jobId: String, reason: String) {
            self.jobId = jobId
            self.reason = reason
        }
    }

    public let thingName: String
    /// This trackerd's version.
    public let version: String
    /// The id of the certificate in use, and why the last rotation failed (if it did).
    public let certificate: (id: String?, rotationFailure: String?)
    public private(set) var ledger: JobLedger
    /// Download progress of the job in hand: bytes so far and the total, when known.
    public private(set) var progress: (bytes: Int64, total: Int64?)?
    private let installResult: InstallResult?
    private let prefix: String
    private var awaitingStart = false
    /// A download asked for in this run and not yet ended: a reconnection's `start-next` hands
    /// the same job back, and a second download must not start on the same file.
    private var fetching = false
    private var lastTenth = -1
    private var requests = 0
    private let tokenPrefix: String

    /// `installResult`: what the update unit left, read at start.
    public init(thingName: String, version: String, ledger: JobLedger, installResult: InstallResult?, processID: Int32 = 0,
                certificateId: String? = nil, rotationFailure: String? = nil) {
        self.thingName = thingName
        self.version = version
        certificate = (certificateId, rotationFailure)
        self.ledger = ledger
        self.installResult = installResult
        prefix = "$aws/things/\(thingName)/jobs/"
        tokenPrefix = "trackerd-\(processID)-"
    }

    public var subscriptions: [String] {
        ["notify-next", "start-next/accepted", "start-next/rejected", "+/update/accepted", "+/update/rejected"].map { prefix + $0 }
    }

    /// After every (re)connection: a status decided while away goes first, then `start-next`
    /// (which also returns the job in hand, IN_PROGRESS, so it resumes).
    public mutating func subscribed() -> [Action] {
        var out: [Action] = []
        if let active = ledger.active, let outcome = active.outcome {
            out.append(update(active.jobId, outcome))
        } else {
            out += startNext()
        }
        return out
    }

    /// A message on one of `subscriptions`; nil for any other topic.
    public mutating func received(topic: String, payload: [UInt8]) -> [Action]? {
        guard topic.hasPrefix(prefix) else { return nil }
        let suffix = String(topic.dropFirst(prefix.count))
        let body = JSONValue.parse(payload)
        switch suffix {
        case "notify-next":
            // A job queued (or the next one after ours): fetch it, unless one is in hand.
            guard body?["execution"] != nil, ledger.active == nil, !awaitingStart else { return [] }
            return startNext()
        case "start-next/accepted":
            awaitingStart = false
            return started(body?["execution"])
        case "start-next/rejected":
            awaitingStart = false
            return [.log(EngineLogEntry(.warning, "jobs: start-next rejected: \(Self.error(body))"))]
        default:
            let parts = suffix.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[1] == "update" else { return nil }
            let jobId = String(parts[0])
            return parts[2] == "accepted" ? updateAccepted(jobId) : updateRejected(jobId, body)
        }
    }

    public mutating func downloaded(_ result: Download) -> [Action] {
        guard let active = ledger.active, let operation = active.operation, active.step == .downloading, active.outcome == nil else { return [] }
        progress = nil
        fetching = false
        switch result {
        case .failed(let reason):
            return finish("FAILED", ["reason": "download failed: " + reason])
        case .complete(let size, let sha256):
            if let expected = operation.size, size != expected {
                return finish("FAILED", ["reason": "size mismatch: the document says \(expected) bytes, the download has \(size)"])
            }
            guard sha256 == operation.sha256 else {
                return finish("FAILED", ["reason": "sha256 mismatch: the document says \(operation.sha256), the download has \(sha256)"])
            }
            var out: [Action] = [.log(EngineLogEntry(.info, "job \(active.jobId): downloaded 100 % (\(size) bytes), verified (sha256 \(sha256.prefix(12))…)"))]
            switch operation {
            case .installPackage(_, _, _, let target):
                ledger.active?.step = .installing
                out += [.save(ledger), .install(jobId: active.jobId, version: target),
                        .log(EngineLogEntry(.notice, "job \(active.jobId): installing trackerd \(target) (this is \(version)); trackerd restarts",
                                            ["event": "job-installing", "job": active.jobId]))]
            case .updateGeofences:
                ledger.active?.step = .applying
                out += [.save(ledger), .applyGeofences(jobId: active.jobId)]
            case .rotateCertificate:
                break // nothing to download
            }
            return out
        }
    }

    /// Download progress: logged at every tenth.
    public mutating func progressed(bytes: Int64, total: Int64?) -> [Action] {
        guard let active = ledger.active else { return [] }
        progress = (bytes, total)
        guard let total, total > 0 else { return [] }
        let tenth = Int(min(10, bytes * 10 / total))
        // 100 % is said once the file is verified.
        guard tenth > lastTenth, tenth < 10 else { return [] }
        lastTenth = tenth
        return [.log(EngineLogEntry(.info, "job \(active.jobId): downloaded \(tenth * 10) % (\(bytes) of \(total) bytes)"))]
    }

    /// The zone set of an `update-geofences` job: in force (`zones` of them), or why not.
    public mutating func geofencesApplied(_ result: Result<Int, JobRejection>) -> [Action] {
        guard let active = ledger.active, active.step == .applying, active.outcome == nil else { return [] }
        switch result {
        case .success(let zones): return finish("SUCCEEDED", ["zones": "\(zones)"])
        case .failure(let rejection): return finish("FAILED", ["reason": rejection.reason])
        }
    }

    // MARK: -

    private mutating func startNext() -> [Action] {
        awaitingStart = true
        return [.publish(topic: prefix + "start-next", payload: JSONValue.object(["clientToken": .string(nextToken())]).bytes)]
    }

    private mutating func started(_ execution: JSONValue?) -> [Action] {
        guard case .string(let jobId)? = execution?["jobId"] else {
            // Nothing pending. A job in hand that the service no longer lists was cancelled.
            guard let active = ledger.active else { return [] }
            ledger.end(active.jobId, status: "CANCELED")
            return [.save(ledger), .removeFiles(jobId: active.jobId),
                    .log(EngineLogEntry(.warning, "job \(active.jobId): no longer pending at the Jobs service (cancelled?); dropped"))]
        }
        if let ended = ledger.ended.first(where: { $0.jobId == jobId }) {
            // It ran already: say again how it ended, never run it again.
            return [.log(EngineLogEntry(.notice, "job \(jobId) already ended \(ended.status); reporting that again")),
                    update(jobId, JobLedger.Outcome(status: ended.status, details: ["reason": "already ended on this tracker"]))]
        }
        if let active = ledger.active {
            if active.jobId == jobId { return resume(active) }
            // The service moved on (ours was cancelled or removed): drop it.
            ledger.end(active.jobId, status: "CANCELED")
        }
        guard Self.isJobID(jobId) else {
            return [.log(EngineLogEntry(.error, "jobs: an execution with an unusable job id was ignored"))]
        }
        switch JobOperation.parse(execution?["jobDocument"]) {
        case .failure(let rejection):
            ledger.active = JobLedger.Active(jobId: jobId, operation: nil, step: .downloading, fromVersion: version)
            return finish("REJECTED", ["reason": rejection.reason])
        case .success(let operation):
            if case .installPackage(_, _, _, let target) = operation, target == version {
                ledger.active = JobLedger.Active(jobId: jobId, operation: operation, step: .installing, fromVersion: version)
                return finish("SUCCEEDED", ["version": version, "reason": "trackerd \(version) is already installed"])
            }
            if operation == .rotateCertificate {
                ledger.active = JobLedger.Active(jobId: jobId, operation: operation, step: .rotating, fromVersion: version,
                                                 fromCertificate: certificate.id)
                return [.save(ledger),
                        .log(EngineLogEntry(.notice, "job \(jobId): rotate-certificate: trackerd restarts to renew its certificate",
                                            ["event": "job-started", "job": jobId])),
                        .rotateCertificate(jobId: jobId)]
            }
            ledger.active = JobLedger.Active(jobId: jobId, operation: operation, step: .downloading, fromVersion: version)
            lastTenth = -1
            fetching = true
            return [.save(ledger),
                    .log(EngineLogEntry(.notice, "job \(jobId): \(operation.name) from \(operation.url)", ["event": "job-started", "job": jobId])),
                    .download(jobId: jobId, url: operation.url, size: operation.size)]
        }
    }

    /// The job in hand, after a restart or a reconnection.
    private mutating func resume(_ active: JobLedger.Active) -> [Action] {
        if let outcome = active.outcome { return [update(active.jobId, outcome)] }
        guard let operation = active.operation else { return [] }
        switch active.step {
        case .downloading:
            guard !fetching else { return [] }
            fetching = true
            return [.log(EngineLogEntry(.info, "job \(active.jobId): resuming the download")),
                    .download(jobId: active.jobId, url: operation.url, size: operation.size)]
        case .applying:
            return [.applyGeofences(jobId: active.jobId)]
        case .rotating:
            if let now = certificate.id, now != active.fromCertificate { return finish("SUCCEEDED", ["certificateId": now]) }
            if let reason = certificate.rotationFailure { return finish("FAILED", ["reason": reason]) }
            return [.log(EngineLogEntry(.info, "job \(active.jobId): waiting for the certificate rotation at the next start"))]
        case .installing:
            guard case .installPackage(_, _, _, let target) = operation else { return [] }
            if target == version { return finish("SUCCEEDED", ["version": version]) }
            if let installResult, installResult.jobId == active.jobId {
                return finish("FAILED", ["reason": installResult.reason, "version": version])
            }
            return [.log(EngineLogEntry(.info, "job \(active.jobId): waiting for the update unit to install \(target)"))]
        }
    }

    private mutating func finish(_ status: String, _ details: [String: String]) -> [Action] {
        guard let active = ledger.active else { return [] }
        let outcome = JobLedger.Outcome(status: status, details: details)
        ledger.active?.outcome = outcome
        let level: EngineLogEntry.Level = status == "SUCCEEDED" ? .notice : .error
        let why = details["reason"].map { ": " + $0 } ?? ""
        return [.save(ledger), update(active.jobId, outcome),
                .log(EngineLogEntry(level, "job \(active.jobId) \(status)\(why)", ["event": "job-ended", "job": active.jobId, "status": status]))]
    }

    private mutating func update(_ jobId: String, _ outcome: JobLedger.Outcome) -> Action {
        // AWS: statusDetails values are strings of at most 1,024 characters.
        let details = outcome.details.mapValues { JSONValue.string(String($0.prefix(1024))) }
        return .publish(topic: prefix + jobId + "/update", payload: JSONValue.object([
            "status": .string(outcome.status), "statusDetails": .object(details), "clientToken": .string(nextToken()),
        ]).bytes)
    }

    private mutating func updateAccepted(_ jobId: String) -> [Action] {
        guard let active = ledger.active, active.jobId == jobId, let outcome = active.outcome else {
            // A status sent again for an ended job.
            return []
        }
        ledger.end(jobId, status: outcome.status)
        return [.save(ledger), .removeFiles(jobId: jobId)] + startNext()
    }

    private mutating func updateRejected(_ jobId: String, _ body: JSONValue?) -> [Action] {
        let code: String = if case .string(let text)? = body?["code"] { text } else { "" }
        var out: [Action] = [.log(EngineLogEntry(.error, "job \(jobId): status update rejected: \(Self.error(body))"))]
        guard let active = ledger.active, active.jobId == jobId else { return out }
        if code == "InternalError" || code == "RequestThrottled" { return out }  // sent again at the next connection
        // The execution ended or went away at the service: nothing more to say about it.
        ledger.end(jobId, status: active.outcome?.status ?? "CANCELED")
        out += [.save(ledger), .removeFiles(jobId: jobId)] + startNext()
        return out
    }

    private mutating func nextToken() -> String {
        requests += 1
        return tokenPrefix + "\(requests)"
    }

    /// AWS: 1 to 64 of A-Z a-z 0-9 _ - (it names the job's files here too).
    public static func isJobID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x5F || b == 0x2D
        }
    }

    private static func error(_ body: JSONValue?) -> String {
        let code: String = if case .string(let text)? = body?["code"] { text } else { "?" }
        let message: String = if case .string(let text)? = body?["message"] { text } else { "no message" }
        return "\(code): \(message)"
    }
}
