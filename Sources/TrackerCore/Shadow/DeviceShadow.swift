/// The device's side of its `trackerd` named shadow: which topics to follow, when to ask for
/// the document, which desired state to apply, and what to report back.
///
/// The desired state is applied as a whole (`RemoteSettings.validate`): when it is valid and
/// differs from what is in force the engine switches to it; when it is not, nothing changes and
/// `reported.errors` lists every problem. The reported state is what is in force — the applied
/// desired document — so the shadow's delta is empty exactly when the device did what was asked.
///
/// A delta says what changed but not what was removed: the device therefore also follows
/// `/update/documents`, whose `current.state.desired` is the whole desired state, so a key set
/// to `null` (back to the file's value) takes effect at once too. Messages carry the shadow's
/// version; one not newer than the last handled is old news (delta and documents of one update
/// say the same thing).
public struct DeviceShadow: Sendable {
    public static let name = "trackerd"

    /// What a message from the shadow service asks of the device.
    public struct Reaction: Sendable, Equatable {
        /// Switch to these settings (valid, different from those in force).
        public var apply: RemoteSettings?
        /// An update request for the reported state.
        public var report: [UInt8]?
        /// Journal lines.
        public var log: [EngineLogEntry] = []
    }

    public let thingName: String
    /// `$aws/things/{thing}/shadow/name/trackerd/`
    public let prefix: String
    /// The settings in force (none until a desired state is applied).
    public private(set) var applied: RemoteSettings
    /// The shadow version `applied` came from (0: none, or from before the restart).
    public private(set) var appliedVersion: Int
    /// Why the current desired state was not applied (empty when it was).
    public private(set) var problems: [RemoteSettings.Problem] = []
    /// The whole desired state as last seen.
    private var desired: JSONValue?
    /// The newest version handled.
    private var version = 0
    /// The reported state as the service holds it, as far as the device knows (nil: unknown).
    private var reported: JSONValue?
    private let tokenPrefix: String
    private var requests = 0

    /// `applied`: the settings kept from the last run (used offline until the shadow answers).
    public init(thingName: String, applied: RemoteSettings = RemoteSettings(), appliedVersion: Int = 0, processID: Int32 = 0) {
        self.thingName = thingName
        prefix = "$aws/things/\(thingName)/shadow/name/\(Self.name)/"
        self.applied = applied
        self.appliedVersion = appliedVersion
        // AWS: a clientToken is at most 64 bytes.
        tokenPrefix = "trackerd-\(processID)-"
    }

    /// Subscribed to before the `get`, so its answer cannot be missed.
    public var subscriptions: [String] {
        ["get/accepted", "get/rejected", "update/delta", "update/documents", "update/rejected"].map { prefix + $0 }
    }

    /// The whole document, asked for at every connection: what changed while the device was
    /// away arrives as no delta.
    public mutating func getRequest() -> (topic: String, payload: [UInt8]) {
        (prefix + "get", JSONValue.object(["clientToken": .string(nextToken())]).bytes)
    }

    /// A message on one of `subscriptions`; nil for any other topic.
    public mutating func received(topic: String, payload: [UInt8]) -> Reaction? {
        guard topic.hasPrefix(prefix) else { return nil }
        let suffix = topic.dropFirst(prefix.count)
        var reaction = Reaction()
        guard let body = JSONValue.parse(payload) else {
            reaction.log.append(EngineLogEntry(.warning, "shadow \(Self.name): \(suffix) is not JSON; ignored"))
            return reaction
        }
        let version = body["version"].flatMap(Self.integer)
        switch suffix {
        case "get/accepted":
            // The whole document: newer than anything else, even after the shadow was deleted
            // and made again (its version then starts over).
            self.version = version ?? 0
            reported = body["state"]?["reported"] ?? .object([:])
            reconcile(body["state"]?["desired"], version: self.version, &reaction)
        case "get/rejected":
            let code = body["code"].flatMap(Self.integer) ?? 0
            if code == 404 {
                // No shadow: nothing is desired; what was applied before goes.
                self.version = 0
                reported = .object([:])
                reconcile(nil, version: 0, &reaction)
            } else {
                reaction.log.append(EngineLogEntry(.warning, "shadow \(Self.name): get rejected with \(code): \(Self.text(body["message"]))"))
            }
        case "update/delta":
            guard let version, version > self.version, let delta = body["state"] else { break }
            self.version = version
            reconcile((desired ?? .object([:])).merging(delta), version: version, &reaction)
        case "update/documents":
            guard let current = body["current"], let version = current["version"].flatMap(Self.integer), version > self.version else { break }
            self.version = version
            reported = current["state"]?["reported"] ?? .object([:])
            reconcile(current["state"]?["desired"], version: version, &reaction)
        case "update/rejected":
            guard case .string(let token)? = body["clientToken"], token.hasPrefix(tokenPrefix) else { break }
            let code = body["code"].flatMap(Self.integer) ?? 0
            reaction.log.append(EngineLogEntry(.error, "shadow \(Self.name): the reported state was refused with \(code): \(Self.text(body["message"]))",
                                               ["event": "shadow-report-rejected"]))
            // What the service holds is unknown now: the next `get` says.
            reported = nil
        default:
            return nil
        }
        return reaction
    }

    /// The reported state for `applied` and `problems`. A desired state full of mistakes must
    /// not make a report the service refuses: the errors are cut to what fits, the rest
    /// counted (the journal has them all).
    public var reportedState: JSONValue {
        var state = applied.document
        guard !problems.isEmpty else { return .object(state) }
        let budget = NamedShadow.maxDocumentBytes / 4 - JSONValue.object(state).bytes.count
        var errors: [JSONValue] = []
        var size = 0
        for (index, problem) in problems.enumerated() {
            let entry = problem.json
            size += entry.bytes.count + 1
            if size > budget {
                errors.append(RemoteSettings.Problem(path: "desired", problem: "\(problems.count - index) more problems: see the device's log").json)
                break
            }
            errors.append(entry)
        }
        state["errors"] = .array(errors)
        return .object(state)
    }

    /// Offline: nothing is known of the service's copy, so the next answer is compared afresh.
    public mutating func disconnected() {
        reported = nil
    }

    // MARK: -

    private mutating func reconcile(_ wanted: JSONValue?, version: Int, _ reaction: inout Reaction) {
        let target = wanted ?? .object([:])
        desired = target
        if target == .object(applied.document) {
            problems = []
        } else {
            switch RemoteSettings.validate(target).flatMap({ Self.reportable($0, desired: target) }) {
            case .success(let settings):
                let changed = Set(settings.document.keys).union(applied.document.keys)
                    .filter { settings.document[$0] != applied.document[$0] }.sorted()
                applied = settings
                appliedVersion = version
                problems = []
                reaction.apply = settings
                reaction.log.append(EngineLogEntry(.notice, "shadow \(Self.name) version \(version) applied: \(changed.joined(separator: ", "))",
                                                   ["event": "shadow-applied", "version": "\(version)"]))
            case .failure(let invalid):
                if invalid.problems != problems {
                    let list = invalid.problems.map { "\($0.path): \($0.problem)" }.joined(separator: "; ")
                    reaction.log.append(EngineLogEntry(.error, "shadow \(Self.name) version \(version) not applied: \(list)",
                                                       ["event": "shadow-refused", "version": "\(version)"]))
                }
                problems = invalid.problems
            }
        }
        let state = reportedState
        if let patch = (reported ?? .object([:])).patch(to: state) {
            reaction.report = JSONValue.object(["state": .object(["reported": patch]), "clientToken": .string(nextToken())]).bytes
            reported = state
        }
    }

    /// The reported state echoes the desired one, and AWS counts both toward one document's
    /// 8 KB: settings whose echo would not fit cannot be confirmed, so they are refused (in
    /// practice a zone set over about 4 KB; larger sets arrive as files).
    private static func reportable(_ settings: RemoteSettings, desired: JSONValue) -> Result<RemoteSettings, RemoteSettings.Invalid> {
        let total = NamedShadow.stateBytes(desired: desired, reported: .object(settings.document))
        guard total > NamedShadow.maxDocumentBytes else { return .success(settings) }
        let zones = settings.document["geofences"].map { " (the zones: \($0.bytes.count) bytes)" } ?? ""
        return .failure(RemoteSettings.Invalid([RemoteSettings.Problem(
            path: settings.document["geofences"] != nil ? "geofences" : "desired",
            problem: "confirming it would make the shadow \(total) bytes\(zones), over AWS IoT Core's 8 KB limit for a shadow document (desired and reported together); send larger zone sets as a file")]))
    }

    private mutating func nextToken() -> String {
        requests += 1
        return tokenPrefix + "\(requests)"
    }

    private static func integer(_ value: JSONValue) -> Int? {
        if case .number(let number) = value, number.rounded() == number, abs(number) < 9e15 { Int(number) } else { nil }
    }

    private static func text(_ value: JSONValue?) -> String {
        if case .string(let text)? = value { text } else { "no message" }
    }
}
