import Foundation
import Synchronization

/// localcloud's registry of things, kept in `DIR/registry.json` (rewritten atomically).
public final class ThingRegistry: Sendable {
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
    private let things: Mutex<[String: Thing]>

    public init(path: String) throws {
        self.path = path
        let stored = try FileManager.default.contents(atPath: path).map { try JSONDecoder().decode([String: Thing].self, from: $0) }
        things = Mutex(stored ?? [:])
    }

    public func thing(named name: String) -> Thing? { things.withLock { $0[name] } }

    public var all: [Thing] { things.withLock { $0.values.sorted { $0.thingName < $1.thingName } } }

    /// Registers (or re-registers with a new certificate) a thing and saves the registry.
    public func register(_ thing: Thing) throws {
        let snapshot: [String: Thing] = things.withLock {
            $0[thing.thingName] = thing
            return $0
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
