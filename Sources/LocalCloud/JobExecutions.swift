import TrackerCore

/// One thing's job executions as AWS IoT Jobs keeps them, and its answers to the device's Jobs
/// MQTT API: `start-next`, `{jobId}/update`, `get` and `{jobId}/get`, with AWS's payloads,
/// error codes and state rules (an execution in a terminal state can change no more; an
/// `expectedVersion` that does not match is a VersionMismatch). Pure: `JobsService` loads and
/// keeps the records.
public struct JobExecutions: Sendable {
    public struct Execution: Codable, Sendable, Equatable {
        public var jobId: String
        public var status: String
        public var statusDetails: [String: String] = [:]
        public var queuedAt: Int64
        public var startedAt: Int64?
        public var lastUpdatedAt: Int64
        public var versionNumber = 1
        public var executionNumber = 1

        public init(jobId: String, queuedAt: Int64) {
            self.jobId = jobId
            status = "QUEUED"
            self.queuedAt = queuedAt
            lastUpdatedAt = queuedAt
        }

        public var isTerminal: Bool { Self.terminal.contains(status) }
        public static let terminal: Set<String> = ["SUCCEEDED", "FAILED", "REJECTED", "CANCELED", "TIMED_OUT", "REMOVED"]
    }

    /// A reply: the topic suffix after `$aws/things/{thing}/jobs/`, and its payload.
    public struct Reply: Sendable, Equatable {
        public var suffix: String
        public var payload: JSONValue
    }

    public let thingName: String
    public private(set) var executions: [Execution]
    /// The job documents, by job id.
    public let documents: [String: JSONValue]

    public init(thingName: String, executions: [Execution], documents: [String: JSONValue]) {
        self.thingName = thingName
        self.executions = executions
        self.documents = documents
    }

    /// IN_PROGRESS before QUEUED, each oldest first: the order AWS hands them out in.
    public var pending: [Execution] {
        executions.filter { !$0.isTerminal }.sorted { a, b in
            if (a.status == "IN_PROGRESS") != (b.status == "IN_PROGRESS") { return a.status == "IN_PROGRESS" }
            return a.queuedAt < b.queuedAt
        }
    }

    /// The NextNotification for the execution first in line (none: `{"timestamp"}` alone).
    public func nextNotification(now: Int64) -> JSONValue {
        var body: [String: JSONValue] = ["timestamp": .number(Double(now))]
        if let next = pending.first { body["execution"] = json(next, document: true) }
        return .object(body)
    }

    /// `start-next`: the first pending execution, now IN_PROGRESS (and so first next time too).
    public mutating func startNext(_ request: [UInt8], now: Int64) -> [Reply] {
        guard let body = JSONValue.parse(request), case .object(let fields) = body else {
            return [rejected("start-next", "InvalidJson", "Request payload is not valid JSON", nil, now)]
        }
        let token = fields["clientToken"]
        var reply: [String: JSONValue] = ["timestamp": .number(Double(now))]
        if let token { reply["clientToken"] = token }
        if let next = pending.first, let index = executions.firstIndex(where: { $0.jobId == next.jobId }) {
            if executions[index].status == "QUEUED" {
                executions[index].status = "IN_PROGRESS"
                executions[index].startedAt = now
                executions[index].lastUpdatedAt = now
                executions[index].versionNumber += 1
            }
            if case .object(let details)? = fields["statusDetails"] { executions[index].statusDetails = Self.strings(details) ?? executions[index].statusDetails }
            reply["execution"] = json(executions[index], document: true)
        }
        return [Reply(suffix: "start-next/accepted", payload: .object(reply))]
    }

    /// `{jobId}/update`.
    public mutating func update(jobId: String, _ request: [UInt8], now: Int64) -> [Reply] {
        let operation = "\(jobId)/update"
        guard let body = JSONValue.parse(request), case .object(let fields) = body else {
            return [rejected(operation, "InvalidJson", "Request payload is not valid JSON", nil, now)]
        }
        let token = fields["clientToken"]
        guard let index = executions.firstIndex(where: { $0.jobId == jobId }) else {
            return [rejected(operation, "ResourceNotFound", "Job Execution not found for thing \(thingName) and job \(jobId)", token, now)]
        }
        guard case .string(let status)? = fields["status"], ["IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"].contains(status) else {
            return [rejected(operation, "InvalidRequest", "status must be one of IN_PROGRESS, SUCCEEDED, FAILED, REJECTED", token, now)]
        }
        var details = executions[index].statusDetails
        if let given = fields["statusDetails"] {
            guard case .object(let object) = given, let strings = Self.strings(object) else {
                return [rejected(operation, "InvalidRequest", "statusDetails must map names to strings of at most 1024 characters", token, now)]
            }
            details = strings
        }
        if let expected = fields["expectedVersion"] {
            guard case .number(let number) = expected, Int(number) == executions[index].versionNumber else {
                return [rejected(operation, "VersionMismatch", "expectedVersion does not match the execution's version", token, now,
                                 state: executions[index])]
            }
        }
        guard !executions[index].isTerminal else {
            return [rejected(operation, "InvalidStateTransition",
                             "Job execution \(jobId) is \(executions[index].status) and cannot be updated to \(status)", token, now,
                             state: executions[index])]
        }
        executions[index].status = status
        executions[index].statusDetails = details
        executions[index].lastUpdatedAt = now
        executions[index].versionNumber += 1
        if executions[index].startedAt == nil && status == "IN_PROGRESS" { executions[index].startedAt = now }
        var reply: [String: JSONValue] = ["timestamp": .number(Double(now))]
        if let token { reply["clientToken"] = token }
        if fields["includeJobExecutionState"] == .bool(true) { reply["executionState"] = state(executions[index]) }
        if fields["includeJobDocument"] == .bool(true) { reply["jobDocument"] = documents[jobId] ?? .null }
        return [Reply(suffix: "\(jobId)/update/accepted", payload: .object(reply))]
    }

    /// `get`: the pending executions' summaries.
    public func pendingSummaries(_ request: [UInt8], now: Int64) -> Reply {
        var reply: [String: JSONValue] = [
            "inProgressJobs": .array(pending.filter { $0.status == "IN_PROGRESS" }.map { json($0, document: false) }),
            "queuedJobs": .array(pending.filter { $0.status == "QUEUED" }.map { json($0, document: false) }),
            "timestamp": .number(Double(now)),
        ]
        if let token = JSONValue.parse(request)?["clientToken"] { reply["clientToken"] = token }
        return Reply(suffix: "get/accepted", payload: .object(reply))
    }

    /// `{jobId}/get`: one execution, with its document.
    public func describe(jobId: String, _ request: [UInt8], now: Int64) -> Reply {
        let token = JSONValue.parse(request)?["clientToken"]
        guard let execution = executions.first(where: { $0.jobId == jobId }) else {
            return rejected("\(jobId)/get", "ResourceNotFound", "Job Execution not found for thing \(thingName) and job \(jobId)", token, now)
        }
        var reply: [String: JSONValue] = ["execution": json(execution, document: true), "timestamp": .number(Double(now))]
        if let token { reply["clientToken"] = token }
        return Reply(suffix: "\(jobId)/get/accepted", payload: .object(reply))
    }

    // MARK: -

    private func json(_ execution: Execution, document: Bool) -> JSONValue {
        var out: [String: JSONValue] = [
            "jobId": .string(execution.jobId), "thingName": .string(thingName), "status": .string(execution.status),
            "queuedAt": .number(Double(execution.queuedAt)), "lastUpdatedAt": .number(Double(execution.lastUpdatedAt)),
            "versionNumber": .number(Double(execution.versionNumber)), "executionNumber": .number(Double(execution.executionNumber)),
        ]
        if !execution.statusDetails.isEmpty { out["statusDetails"] = .object(execution.statusDetails.mapValues { .string($0) }) }
        if let started = execution.startedAt { out["startedAt"] = .number(Double(started)) }
        if document { out["jobDocument"] = documents[execution.jobId] ?? .null }
        return .object(out)
    }

    private func state(_ execution: Execution) -> JSONValue {
        var out: [String: JSONValue] = ["status": .string(execution.status), "versionNumber": .number(Double(execution.versionNumber))]
        if !execution.statusDetails.isEmpty { out["statusDetails"] = .object(execution.statusDetails.mapValues { .string($0) }) }
        return .object(out)
    }

    private func rejected(_ operation: String, _ code: String, _ message: String, _ token: JSONValue?, _ now: Int64,
                          state execution: Execution? = nil) -> Reply {
        var body: [String: JSONValue] = ["code": .string(code), "message": .string(message), "timestamp": .number(Double(now))]
        if let token { body["clientToken"] = token }
        if let execution { body["executionState"] = state(execution) }
        return Reply(suffix: "\(operation)/rejected", payload: .object(body))
    }

    /// AWS: statusDetails values are strings of at most 1,024 characters.
    private static func strings(_ object: [String: JSONValue]) -> [String: String]? {
        var out: [String: String] = [:]
        for (key, value) in object {
            guard case .string(let text) = value, text.count <= 1024, !key.isEmpty, key.count <= 128 else { return nil }
            out[key] = text
        }
        return out
    }
}
