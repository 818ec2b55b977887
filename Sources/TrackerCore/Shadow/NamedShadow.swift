/// One named device shadow as AWS IoT Core keeps it, and its answers to `get` and `update`:
/// what localcloud serves on `$aws/things/{thing}/shadow/name/{name}/...`.
///
/// Semantics as AWS documents them: an update merges its `desired` and `reported` into the
/// document (`null` deletes), increments `version` (an update naming another version is refused
/// with 409), and is answered on `/update/accepted` (the request's state with its metadata),
/// `/update/documents` (previous and current) and, when the update set desired state that
/// differs from the reported state, `/update/delta`. `get` answers the whole document with its
/// delta, or 404. An update after which the document's state (desired and reported together,
/// metadata not counted) would exceed 8 KB is refused with 413, as AWS does.
public struct NamedShadow: Codable, Sendable, Equatable {
    /// AWS IoT Core: 8 KB per shadow state document.
    public static let maxDocumentBytes = 8 * 1024

    /// What counts toward `maxDocumentBytes`: the desired and reported state, as compact JSON.
    public static func stateBytes(desired: JSONValue?, reported: JSONValue?) -> Int {
        (desired?.bytes.count ?? 0) + (reported?.bytes.count ?? 0)
    }

    public var desired: JSONValue?
    public var reported: JSONValue?
    public var desiredMetadata: JSONValue?
    public var reportedMetadata: JSONValue?
    public var version = 0
    /// False until the first update (then `get` has something to answer).
    public var exists = false

    public init() {}

    /// A reply: the topic suffix after `.../shadow/name/{name}/` and the payload.
    public struct Reply: Sendable, Equatable {
        public var suffix: String
        public var payload: JSONValue

        public init(_ suffix: String, _ payload: JSONValue) {
            self.suffix = suffix
            self.payload = payload
        }
    }

    /// `name`: the shadow's name, for AWS's "No shadow exists with name" message.
    public func get(_ request: [UInt8], name: String, now: Int64) -> [Reply] {
        let token = JSONValue.parse(request)?["clientToken"]
        guard exists else { return [rejected("get", 404, "No shadow exists with name: '\(name)'", token, now)] }
        var state: [String: JSONValue] = [:]
        if let desired { state["desired"] = desired }
        if let reported { state["reported"] = reported }
        if let delta = desired?.delta(from: reported) { state["delta"] = delta }
        var body: [String: JSONValue] = ["state": .object(state), "metadata": .object(metadataObject),
                                         "version": .number(Double(version)), "timestamp": .number(Double(now))]
        if let token { body["clientToken"] = token }
        return [Reply("get/accepted", .object(body))]
    }

    public mutating func update(_ request: [UInt8], now: Int64) -> [Reply] {
        guard let document = JSONValue.parse(request), case .object(let fields) = document else {
            return [rejected("update", 400, "Payload contains invalid json", nil, now)]
        }
        let token = fields["clientToken"]
        guard request.count <= Self.maxDocumentBytes else {
            return [rejected("update", 413, "The payload exceeds the maximum size allowed", token, now)]
        }
        guard case .object(let state)? = fields["state"] else {
            return [rejected("update", 400, "Missing required node: state", token, now)]
        }
        if let expected = fields["version"] {
            guard case .number(let number) = expected, Int(number) == version else {
                return [rejected("update", 409, "Version conflict", token, now)]
            }
        }
        if let key = state.keys.sorted().first(where: { $0 != "desired" && $0 != "reported" }) {
            return [rejected("update", 400, "State contains an invalid node: '\(key)'", token, now)]
        }
        let previous = self
        if let change = state["desired"] {
            desired = (desired ?? .object([:])).merging(change)
            desiredMetadata = (desiredMetadata ?? .object([:])).merging(change.metadata(timestamp: now))
        }
        if let change = state["reported"] {
            reported = (reported ?? .object([:])).merging(change)
            reportedMetadata = (reportedMetadata ?? .object([:])).merging(change.metadata(timestamp: now))
        }
        if desired == .object([:]) { desired = nil }
        if reported == .object([:]) { reported = nil }
        guard Self.stateBytes(desired: desired, reported: reported) <= Self.maxDocumentBytes else {
            self = previous
            return [rejected("update", 413, "The payload exceeds the maximum size allowed", token, now)]
        }
        version += 1
        exists = true

        var metadata: [String: JSONValue] = [:]
        if let change = state["desired"] { metadata["desired"] = change.metadata(timestamp: now) }
        if let change = state["reported"] { metadata["reported"] = change.metadata(timestamp: now) }
        var accepted: [String: JSONValue] = ["state": .object(state), "metadata": .object(metadata),
                                             "version": .number(Double(version)), "timestamp": .number(Double(now))]
        if let token { accepted["clientToken"] = token }
        var documents: [String: JSONValue] = ["previous": previous.snapshot, "current": snapshot, "timestamp": .number(Double(now))]
        if let token { documents["clientToken"] = token }
        var replies = [Reply("update/accepted", .object(accepted)), Reply("update/documents", .object(documents))]
        if state["desired"] != nil, let delta = desired?.delta(from: reported) {
            var body: [String: JSONValue] = ["state": delta, "metadata": deltaMetadata(delta),
                                             "version": .number(Double(version)), "timestamp": .number(Double(now))]
            if let token { body["clientToken"] = token }
            replies.append(Reply("update/delta", .object(body)))
        }
        return replies
    }

    // MARK: -

    private var metadataObject: [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        if let desiredMetadata { out["desired"] = desiredMetadata }
        if let reportedMetadata { out["reported"] = reportedMetadata }
        return out
    }

    /// The document as `/update/documents` shows it (`null` state before the first update).
    private var snapshot: JSONValue {
        var state: [String: JSONValue] = [:]
        if let desired { state["desired"] = desired }
        if let reported { state["reported"] = reported }
        return .object(["state": exists ? .object(state) : .null, "metadata": .object(metadataObject), "version": .number(Double(version))])
    }

    /// The desired metadata of the keys in `delta`.
    private func deltaMetadata(_ delta: JSONValue) -> JSONValue {
        func pick(_ value: JSONValue, _ metadata: JSONValue?) -> JSONValue {
            guard case .object(let object) = value, case .object(let meta)? = metadata else { return metadata ?? .null }
            return .object(Dictionary(uniqueKeysWithValues: object.map { ($0.key, pick($0.value, meta[$0.key])) }))
        }
        return pick(delta, desiredMetadata)
    }

    private func rejected(_ operation: String, _ code: Int, _ message: String, _ token: JSONValue?, _ now: Int64) -> Reply {
        var body: [String: JSONValue] = ["code": .number(Double(code)), "message": .string(message), "timestamp": .number(Double(now))]
        if let token { body["clientToken"] = token }
        return Reply("\(operation)/rejected", .object(body))
    }
}
