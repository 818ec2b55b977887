import Foundation
import Synchronization

/// localcloud's registry of things: a snapshot, `DIR/registry.json`, and a journal beside it,
/// `DIR/registry.log`, one JSON line per change (a later line for a thing replaces an earlier).
/// A registration appends its line before RegisterThing is answered: O(1), where rewriting the
/// snapshot was O(N) and, at a thousand things, the limit on registrations per second.
/// `compact()` (at `serve`'s start) folds the journal into the snapshot.
public final class ThingRegistry: Sendable {
    public struct Thing: Codable, Sendable, Equatable {
        public var thingName: String
        public var certificateId: String
        /// The certificate's subject CN: Mosquitto's user name for this device (use_identity_as_username).
        public var identity: String
        public var attributes: [String: String]
        public var policyName: String?
        public var registeredAt: String
        /// The certificate's serial number (hex), for revoking it.
        public var serial: String?
        /// Certificates the thing had before a rotation: revoked once the thing says it is
        /// online with its new one.
        public var retired: [RetiredCertificate]?

        public init(thingName: String, certificateId: String, identity: String, attributes: [String: String], policyName: String?,
                    registeredAt: String, serial: String? = nil, retired: [RetiredCertificate]? = nil) {
            self.thingName = thingName
            self.certificateId = certificateId
            self.identity = identity
            self.attributes = attributes
            self.policyName = policyName
            self.registeredAt = registeredAt
            self.serial = serial
            self.retired = retired
        }
    }

    public struct RetiredCertificate: Codable, Sendable, Equatable {
        public var certificateId: String
        public var serial: String?
        public var retiredAt: String
        public var revokedAt: String?
    }

    public let path: String
    public var journalPath: String { Self.journalPath(for: path) }
    private let things: Mutex<[String: Thing]>
    /// The journal, opened for appending at the first change.
    private let journal = Mutex<Int32>(-1)

    /// Reads the snapshot and replays the journal (a torn last line, from a crash mid-write, is skipped).
    public init(path: String) throws {
        self.path = path
        var stored = try FileManager.default.contents(atPath: path).map { try JSONDecoder().decode([String: Thing].self, from: $0) } ?? [:]
        if let log = FileManager.default.contents(atPath: Self.journalPath(for: path)) {
            for line in log.split(separator: 0x0A) {
                guard let thing = try? JSONDecoder().decode(Thing.self, from: Data(line)) else { continue }
                stored[thing.thingName] = thing
            }
        }
        things = Mutex(stored)
    }

    /// registry.json's journal: registry.log beside it.
    static func journalPath(for path: String) -> String {
        (path.hasSuffix(".json") ? String(path.dropLast(5)) : path) + ".log"
    }

    deinit { journal.withLock { if $0 >= 0 { close($0) } } }

    /// Writes the snapshot with every change so far and empties the journal.
    public func compact() throws {
        try journal.withLock { fd in
            try save(things.withLock { $0 })
            if fd >= 0 { close(fd); fd = -1 }
            guard truncate(journalPath, 0) == 0 || errno == ENOENT else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: journalPath])
            }
        }
    }

    /// One line, one write(2), in append mode.
    private func append(_ thing: Thing) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = try encoder.encode(thing) + [0x0A]
        try journal.withLock { fd in
            if fd < 0 { fd = open(journalPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600) }
            guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: journalPath]) }
            let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == line.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: journalPath]) }
        }
    }

    public func thing(named name: String) -> Thing? { things.withLock { $0[name] } }

    public var all: [Thing] { things.withLock { $0.values.sorted { $0.thingName < $1.thingName } } }

    /// Registers a thing, or re-registers it with a new certificate (a rotation: the old one is
    /// kept as retired, still valid until the thing is online with the new one), and saves.
    public func register(_ thing: Thing) throws {
        let now = ISO8601DateFormatter().string(from: Date())
        let changed: Thing = things.withLock {
            var thing = thing
            if let old = $0[thing.thingName] {
                thing.retired = old.retired ?? []
                if old.certificateId != thing.certificateId {
                    thing.retired!.append(RetiredCertificate(certificateId: old.certificateId, serial: old.serial, retiredAt: now))
                }
            }
            $0[thing.thingName] = thing
            return thing
        }
        try append(changed)
    }

    /// The thing is online with `certificateId`: when that is its current certificate, every
    /// retired one is revoked now. Returns the certificate ids revoked by this call.
    public func confirm(thingName: String, certificateId: String) throws -> [String] {
        let now = ISO8601DateFormatter().string(from: Date())
        var revoked: [String] = []
        let changed: Thing? = things.withLock {
            guard var thing = $0[thingName], thing.certificateId == certificateId, var retired = thing.retired else { return nil }
            for i in retired.indices where retired[i].revokedAt == nil {
                retired[i].revokedAt = now
                revoked.append(retired[i].certificateId)
            }
            guard !revoked.isEmpty else { return nil }
            thing.retired = retired
            $0[thingName] = thing
            return thing
        }
        if let changed { try append(changed) }
        return revoked
    }

    /// The serial numbers of every revoked certificate, for the CRL.
    public var revokedSerials: [String] {
        things.withLock { $0.values.flatMap { ($0.retired ?? []).filter { $0.revokedAt != nil }.compactMap(\.serial) }.sorted() }
    }

    private func save(_ snapshot: [String: Thing]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
