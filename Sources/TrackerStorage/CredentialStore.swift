#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage
import TrackerCore

/// The device's credentials under `[store] dir`, kept the way AWS IoT Device Client keeps them:
/// directories 0700, private keys 0600, certificates 0644, all owned by the running user.
///
/// Every file is written to a temporary file created with O_CREAT|O_EXCL and its final mode
/// (set on the descriptor before the first byte), fsync'd, renamed over the old one, and the
/// directory fsync'd: a power cut leaves the old file or the new one, never half of either.
///
///     device/certificate.pem.crt   the active unique certificate (0644)
///     device/private.pem.key       its key (0600)
///     device/private-key.uri       instead of the key file: the RFC 7512 URI of the key in a token
///     pending/certificate.pem.crt  issued, not yet accepted by RegisterThing
///     pending/private.pem.key      (or pending/private-key.uri)
///     pending/pending.json         certificate id, ownership token, time (0600: the token is a secret)
///     provisioning.json            thingName, deviceConfiguration, certificateId, provisionedAt,
///                                  credentials (which of device/ and device.next/ is in use)
///     rotation/                    a rotation's pending key, certificate and token, then
///     rotation/next.json           the record of the new pair, once RegisterThing accepted it
///     device.next/                 where a rotation puts the new pair (and the next one device/)
///
/// A rotation never touches the pair in use: it fills the other directory, and rewriting
/// provisioning.json (one atomic rename) is the switch.
public struct CredentialStore: Sendable {
    public let directory: String

    /// Which job the pending files serve: the first certificate, or a rotation's new one.
    public enum Slot: Sendable { case provisioning, rotation }
    public let slot: Slot

    public static let certificateName = "certificate.pem.crt"
    public static let keyName = "private.pem.key"
    public static let keyReferenceName = "private-key.uri"

    /// The directory of the pair in use: "device", or "device.next" after an odd number of
    /// rotations.
    public var identityName: String {
        guard let bytes = try? Self.read(recordPath),
              let record = try? JSONCodec.decode(ProvisioningResult.self, from: bytes),
              let name = record.credentials, Self.identityNames.contains(name) else { return "device" }
        return name
    }
    static let identityNames = ["device", "device.next"]
    /// The directory a rotation fills.
    public var nextIdentityName: String { identityName == "device" ? "device.next" : "device" }
    public var deviceDirectory: String { directory + "/" + identityName }
    public var pendingDirectory: String { directory + (slot == .rotation ? "/rotation" : "/pending") }
    /// Where a RegisterThing that was accepted leaves the new pair.
    public var promotedDirectory: String { slot == .rotation ? directory + "/" + nextIdentityName : deviceDirectory }
    public var nextRecordPath: String { directory + "/rotation/next.json" }
    public var activeCertificate: String { deviceDirectory + "/" + Self.certificateName }
    public var activeKey: String { deviceDirectory + "/" + Self.keyName }
    public var pendingKey: String { pendingDirectory + "/" + Self.keyName }
    public var activeKeyReference: String { deviceDirectory + "/" + Self.keyReferenceName }
    public var pendingKeyReference: String { pendingDirectory + "/" + Self.keyReferenceName }

    /// The active key as `[mqtt] key_file` takes it: the key file, or the URI of the key in a
    /// token when the device keeps it there.
    public func activeKeyLocation() throws(CredentialStoreError) -> String {
        guard let bytes = try Self.read(activeKeyReference) else { return activeKey }
        return Self.firstLine(bytes)
    }
    public var recordPath: String { directory + "/provisioning.json" }

    /// Opens (creating 0700 directories as needed) and checks the directories' modes and owner.
    public init(directory: String, slot: Slot = .provisioning) throws(CredentialStoreError) {
        self.directory = directory
        self.slot = slot
        for path in [directory, deviceDirectory, pendingDirectory] { try Self.ensureDirectory(path) }
    }

    // MARK: files

    /// Writes `bytes` to `path` atomically with `mode` from the first byte.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws(CredentialStoreError) {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        var temporary = ""
        var fd: Int32 = -1
        for attempt in 0..<100 {
            temporary = "\(path).tmp-\(getpid())-\(attempt)"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw .io(path: temporary, operation: "create", errno: errno) }
        // The umask may only have narrowed the mode; set it exactly before any byte is written.
        guard fchmod(fd, mode) == 0 else {
            let code = errno
            close(fd)
            unlink(temporary)
            throw .io(path: temporary, operation: "chmod", errno: code)
        }
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch {
            close(fd)
            unlink(temporary)
            throw .io(path: path, operation: "write", errno: (error as? Errno)?.rawValue ?? EIO)
        }
        guard fsync(fd) == 0 else {
            let code = errno
            close(fd)
            unlink(temporary)
            throw .io(path: path, operation: "fsync", errno: code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io(path: path, operation: "rename", errno: code)
        }
        try syncDirectory(directory.isEmpty ? "." : directory)
    }

    public static func read(_ path: String) throws(CredentialStoreError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .io(path: path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .io(path: path, operation: "read", errno: errno) }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }

    /// Refuses a private key that others can read or that belongs to someone else.
    public static func checkPrivateKey(_ path: String) throws(CredentialStoreError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        if info.st_uid != geteuid() { throw .wrongOwner(path: path, owner: info.st_uid, expected: geteuid()) }
        if info.st_mode & 0o077 != 0 { throw .keyTooOpen(path: path, mode: UInt32(info.st_mode)) }
    }

    // MARK: pending and active credentials

    /// Stores a key made on the device before its CSR is sent, so a certificate issued for it
    /// can never outlive it.
    public func storePendingKey(_ pem: String) throws(CredentialStoreError) {
        try Self.write(Array(pem.utf8), to: pendingKey, mode: 0o600)
    }

    /// Records the URI of the key in a token the device is about to make (or made) for its CSR.
    public func storePendingKeyReference(_ uri: String) throws(CredentialStoreError) {
        try Self.write(Array((uri + "\n").utf8), to: pendingKeyReference, mode: 0o600)
    }

    public func pendingKeyReferenceURI() throws(CredentialStoreError) -> String? {
        guard let bytes = try Self.read(pendingKeyReference) else { return nil }
        return Self.firstLine(bytes)
    }

    public func pendingKeyPEM() throws(CredentialStoreError) -> String? {
        guard let bytes = try Self.read(pendingKey) else { return nil }
        try Self.checkPrivateKey(pendingKey)
        return String(decoding: bytes, as: UTF8.self)
    }

    public func storePending(_ pending: PendingCertificate) throws(CredentialStoreError) {
        if let key = pending.privateKey { try storePendingKey(key) }
        try Self.write(Array(pending.certificatePem.utf8), to: pendingDirectory + "/" + Self.certificateName, mode: 0o644)
        var record = pending
        record.privateKey = nil
        try Self.write(encode(record), to: pendingDirectory + "/pending.json", mode: 0o600)
    }

    public func loadPending() throws(CredentialStoreError) -> PendingCertificate? {
        let path = pendingDirectory + "/pending.json"
        guard let bytes = try Self.read(path) else { return nil }
        guard let pending = try? JSONCodec.decode(PendingCertificate.self, from: bytes) else {
            throw .unreadable(path: path, detail: "not a pending-certificate record")
        }
        return pending
    }

    /// Forgets the pending certificate and token (the device key of a CSR stays for the next CSR).
    public func discardPending() throws(CredentialStoreError) {
        for name in ["pending.json", Self.certificateName] {
            if unlink(pendingDirectory + "/" + name) != 0 && errno != ENOENT {
                throw .io(path: pendingDirectory + "/" + name, operation: "remove", errno: errno)
            }
        }
        try Self.syncDirectory(pendingDirectory)
    }

    /// RegisterThing accepted. First boot: the record is written, then pending becomes active.
    /// Rotation: pending moves into the other directory and its record into rotation/next.json;
    /// the pair in use stays in use until `commitNext`.
    public func promote(_ result: ProvisioningResult) throws(CredentialStoreError) {
        var result = result
        let target = promotedDirectory
        if slot == .rotation {
            // The record first: a crash before the files are moved leaves a record whose pair is
            // incomplete, which the rotation discards (and RegisterThing, still pending, repeats).
            try Self.ensureDirectory(target)
            result.credentials = nextIdentityName
            try Self.write(encode(result), to: nextRecordPath, mode: 0o600)
        } else {
            result.credentials = identityName == "device" ? nil : identityName
            try Self.write(encode(result), to: recordPath, mode: 0o600)
        }
        // The key is a file or a reference to a key in a token; the other kind, left from an
        // earlier identity, must not outlive the switch.
        let inToken = access(pendingKeyReference, F_OK) == 0
        let (key, other) = inToken ? (Self.keyReferenceName, Self.keyName) : (Self.keyName, Self.keyReferenceName)
        for name in [key, Self.certificateName] {
            guard rename(pendingDirectory + "/" + name, target + "/" + name) == 0 else {
                throw .io(path: pendingDirectory + "/" + name, operation: "move to \(target)", errno: errno)
            }
        }
        if unlink(target + "/" + other) != 0 && errno != ENOENT {
            throw .io(path: target + "/" + other, operation: "remove", errno: errno)
        }
        try Self.syncDirectory(target)
        try discardPending()
    }

    /// Forgets a rotation's record whose pair never arrived (see `promote`).
    public func discardNext() throws(CredentialStoreError) {
        if unlink(nextRecordPath) != 0 && errno != ENOENT { throw .io(path: nextRecordPath, operation: "remove", errno: errno) }
    }

    /// Whether the pair in `name` has its certificate and its key (a file or a token URI).
    public func hasPair(identity name: String) -> Bool {
        access(directory + "/" + name + "/" + Self.certificateName, R_OK) == 0 && keyLocation(identity: name) != nil
    }

    /// A rotation's new pair, accepted by RegisterThing and not yet in use.
    public func nextRecord() throws(CredentialStoreError) -> ProvisioningResult? {
        guard let bytes = try Self.read(nextRecordPath) else { return nil }
        guard let record = try? JSONCodec.decode(ProvisioningResult.self, from: bytes),
              let name = record.credentials, Self.identityNames.contains(name) else {
            throw .unreadable(path: nextRecordPath, detail: "not a rotation record")
        }
        return record
    }

    /// The switch to the rotation's new pair: provisioning.json names it (one rename), then the
    /// rotation's record goes. Idempotent: a crash after the switch repeats it harmlessly.
    public func commitNext() throws(CredentialStoreError) {
        guard let next = try nextRecord() else { return }
        try Self.write(encode(next), to: recordPath, mode: 0o600)
        if unlink(nextRecordPath) != 0 && errno != ENOENT { throw .io(path: nextRecordPath, operation: "remove", errno: errno) }
        try Self.syncDirectory(pendingDirectory)
    }

    /// The key of the pair in `name` ("device" or "device.next"): a file path, or a token URI.
    public func keyLocation(identity name: String) -> String? {
        let dir = directory + "/" + name
        if let bytes = try? Self.read(dir + "/" + Self.keyReferenceName) { return Self.firstLine(bytes) }
        return access(dir + "/" + Self.keyName, F_OK) == 0 ? dir + "/" + Self.keyName : nil
    }

    /// Removes the pair in `name` (never the one in use): what a finished rotation leaves behind,
    /// or a rotation's own leftovers before it starts again.
    public func removeIdentity(_ name: String) throws(CredentialStoreError) {
        guard name != identityName, Self.identityNames.contains(name) else { return }
        let dir = directory + "/" + name
        for file in [Self.keyName, Self.keyReferenceName, Self.certificateName, "ca.pem"]
        where unlink(dir + "/" + file) != 0 && errno != ENOENT {
            throw .io(path: dir + "/" + file, operation: "remove", errno: errno)
        }
        if access(dir, F_OK) == 0 { try Self.syncDirectory(dir) }
    }

    /// The provisioning record, when the device has its own credentials.
    public func activeRecord() throws(CredentialStoreError) -> ProvisioningResult? {
        guard let bytes = try Self.read(recordPath) else { return nil }
        let inToken = access(activeKeyReference, R_OK) == 0
        guard access(activeCertificate, R_OK) == 0, inToken || access(activeKey, R_OK) == 0 else { return nil }
        guard let record = try? JSONCodec.decode(ProvisioningResult.self, from: bytes) else {
            throw .unreadable(path: recordPath, detail: "not a provisioning record")
        }
        if !inToken { try Self.checkPrivateKey(activeKey) }
        return record
    }

    /// The device's own files (record, certificate, key) that exist when some of them are
    /// missing: provisioning again is then a decision to log, not an accident. Empty when all
    /// or none exist.
    public func incompleteActiveCredentials() -> (present: [String], missing: [String]) {
        let key = access(activeKeyReference, F_OK) == 0 ? activeKeyReference : activeKey
        let files = [recordPath, activeCertificate, key]
        let present = files.filter { access($0, F_OK) == 0 }
        guard !present.isEmpty && present.count < files.count else { return ([], []) }
        return (present, files.filter { !present.contains($0) })
    }

    // MARK: -

    /// A one-line file's text without its line end or blanks (a URI has none).
    static func firstLine(_ bytes: [UInt8]) -> String {
        let line = bytes.prefix { $0 != 0x0A && $0 != 0x0D }
        return String(decoding: line, as: UTF8.self).split(separator: " ").joined()
    }

    private func encode(_ value: some Encodable) -> [UInt8] {
        (try? JSONCodec.encodePretty(value)) ?? []
    }

    /// Creates `path` 0700, or checks an existing one is not open to others and is ours.
    public static func ensureDirectory(_ path: String) throws(CredentialStoreError) {
        if mkdir(path, 0o700) == 0 {
            guard chmod(path, 0o700) == 0 else { throw .io(path: path, operation: "chmod", errno: errno) }
            let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            try syncDirectory(parent.isEmpty ? "/" : parent)
            return
        }
        guard errno == EEXIST else { throw .io(path: path, operation: "create directory", errno: errno) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        if info.st_uid != geteuid() { throw .wrongOwner(path: path, owner: info.st_uid, expected: geteuid()) }
        if info.st_mode & 0o077 != 0 { throw .directoryTooOpen(path: path, mode: UInt32(info.st_mode)) }
    }

    static func syncDirectory(_ path: String) throws(CredentialStoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open directory", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync directory", errno: errno) }
    }
}
