import Foundation
import Testing
import TestSupport
import TrackerCore
@testable import TrackerStorage

@Suite struct CredentialStoreTests {
    func mode(_ path: String) -> UInt32 {
        var info = stat()
        stat(path, &info)
        return UInt32(info.st_mode) & 0o7777
    }

    let requested = UTCTimestamp(iso8601: "2026-11-27T08:00:00Z")!

    @Test func directoriesAndFilesGetTheirModesWhateverTheUmask() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let old = umask(0o077)
        defer { umask(old) }
        let store = try CredentialStore(directory: dir.path + "/state")
        #expect(mode(store.directory) == 0o700 && mode(store.deviceDirectory) == 0o700 && mode(store.pendingDirectory) == 0o700)
        try store.storePendingKey("-----BEGIN EC PRIVATE KEY-----\nk\n-----END EC PRIVATE KEY-----\n")
        try store.storePending(PendingCertificate(certificateId: "c1", certificatePem: "CERT", privateKey: nil,
                                                  ownershipToken: "secret-token", requestedAt: requested))
        #expect(mode(store.pendingKey) == 0o600)
        #expect(mode(store.pendingDirectory + "/certificate.pem.crt") == 0o644, "certificates are 0644 even under umask 077")
        #expect(mode(store.pendingDirectory + "/pending.json") == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.pendingDirectory).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func pendingSurvivesAndPromotes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try CredentialStore(directory: dir.path + "/state")
        let pending = PendingCertificate(certificateId: "c1", certificatePem: "CERT", privateKey: "KEY",
                                         ownershipToken: "secret-token", requestedAt: requested)
        try store.storePending(pending)
        var expected = pending
        expected.privateKey = nil
        #expect(try CredentialStore(directory: dir.path + "/state").loadPending() == expected, "the key is kept as a file, not in the record")
        #expect(try store.pendingKeyPEM() == "KEY")
        #expect(try store.activeRecord() == nil)

        let result = ProvisioningResult(thingName: "tracker_1", deviceConfiguration: ["a": "b"], certificateId: "c1", provisionedAt: requested)
        try store.promote(result)
        #expect(try store.activeRecord() == result)
        #expect(try String(contentsOfFile: store.activeCertificate, encoding: .utf8) == "CERT")
        #expect(mode(store.activeKey) == 0o600 && mode(store.activeCertificate) == 0o644 && mode(store.recordPath) == 0o600)
        #expect(try store.loadPending() == nil)
        #expect(!FileManager.default.fileExists(atPath: store.pendingKey))
    }

    @Test func aKeyOthersCanReadIsRefusedWithTheFix() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let key = dir.file("claim.key").path
        try CredentialStore.write(Array("KEY".utf8), to: key, mode: 0o644)
        #expect(throws: CredentialStoreError.keyTooOpen(path: key, mode: 0o100644)) { try CredentialStore.checkPrivateKey(key) }
        #expect(CredentialStoreError.keyTooOpen(path: key, mode: 0o100644).description
                == "the private key \(key) is readable by others (mode 0644); fix: chmod 600 \(key)")
        chmod(key, 0o600)
        try CredentialStore.checkPrivateKey(key)
    }

    @Test(.enabled(if: getuid() == 0, "changing a file's owner needs root (as in CI)"))
    func aKeyOfAnotherUserIsRefusedWithTheFix() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let key = dir.file("claim.key").path
        try CredentialStore.write(Array("KEY".utf8), to: key, mode: 0o600)
        #expect(chown(key, 65534, 65534) == 0)
        do {
            try CredentialStore.checkPrivateKey(key)
            Issue.record("accepted a key owned by nobody")
        } catch {
            #expect(error.description == "\(key) belongs to uid 65534, not to trackerd's uid 0; fix: chown root \(key)")
        }
    }

    @Test func anOpenDirectoryIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let state = dir.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        #expect(throws: CredentialStoreError.directoryTooOpen(path: state, mode: 0o40755)) { try CredentialStore(directory: state) }
    }

    @Test func aWriteReplacesAtomically() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("file").path
        try CredentialStore.write(Array("old".utf8), to: path, mode: 0o644)
        let before = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
        try CredentialStore.write(Array("new".utf8), to: path, mode: 0o644)
        let after = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(before != after, "a new inode renamed into place, not the old file rewritten")
    }
}
