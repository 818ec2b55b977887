import Foundation

/// localcloud's registry of things, kept in `DIR/registry.json` (rewritten atomically).
///
/// `@unchecked Sendable` is sound: `things` is read and written only inside `lock.withLock`.
public final class ThingRegistry: @unchecked Sendable {
    public struct Thing: Codable, Sendable, Equatable {
        public var thingName: String
        public var certificateId: String
        /// The certificate's subject CN: Mosquitto's user name for this device (use_identity_as_username).
        public var identity: String
        public var attributes: [String: String]
        public var policyName: String?
        public var registeredAt: String
    }

    public let path: String
    private let lock = NSLock()
    private var things: [String: Thing] = [:]

    public init(path: String) throws {
        self.path = path
        if let data = FileManager.default.contents(atPath: path) {
            things = try JSONDecoder().decode([String: Thing].self, from: data)
        }
    }

    public func thing(named name: String) -> Thing? { lock.withLock { things[name] } }

    public var all: [Thing] { lock.withLock { things.values.sorted { $0.thingName < $1.thingName } } }

    /// Registers (or re-registers with a new certificate) a thing and saves the registry.
    public func register(_ thing: Thing) throws {
        let snapshot: [String: Thing] = lock.withLock {
            things[thing.thingName] = thing
            return things
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
