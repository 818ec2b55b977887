import CTestSupport
import Foundation
import Testing
import TestSupport
import TrackerCore
@testable import TrackerCrypto

/// Keys made and used inside a real PKCS#11 token (SoftHSM2), judged by the openssl tool and
/// by the token itself. One token for the whole test process: a process has one PKCS#11 module.
@Suite(.enabled(if: SoftHSMToken.available, "needs softhsm2 (make test installs it)"), .serialized)
struct TokenKeysTests {
    static func token() throws -> SoftHSMToken {
        let token = try SoftHSMToken.inProcess.get()
        try TokenKeys.open(module: SoftHSMToken.module, pinFile: token.pinFile)
        return token
    }

    @Test(arguments: [DeviceKeys.KeyType.ecP256, .rsa(bits: 2048)])
    func aKeyMadeInTheTokenSignsItsCSRAndIsFoundByItsId(type: DeviceKeys.KeyType) throws {
        let token = try Self.token()
        let uri = try TokenKeys.generateKey(PKCS11URI(token: token.label, object: "device"), type)
        #expect(uri.id?.count == 16)
        #expect(try TokenKeys.hasKey(uri))
        let csr = try TokenKeys.certificateSigningRequest(uri, commonName: "10000000a1b2c3d4")
        let verified = try DeviceKeysTests().openssl(["req", "-verify", "-noout", "-subject", "-text", "-nameopt", "RFC2253"], input: csr)
        #expect(verified.contains("subject=CN=10000000a1b2c3d4"), "\(verified.prefix(200))")
        #expect(verified.contains(type == .ecP256 ? "NIST CURVE: P-256" : "Public-Key: (2048 bit)"), "\(verified.prefix(400))")

        // Another key with the same label is another key: ids tell them apart.
        let second = try TokenKeys.generateKey(PKCS11URI(token: token.label, object: "device"))
        #expect(second.id != uri.id)
        #expect(try TokenKeys.destroyKey(uri) == 2, "the private and the public half")
        #expect(try !TokenKeys.hasKey(uri))
        #expect(try TokenKeys.hasKey(second))
        #expect(try TokenKeys.destroyKey(uri) == 0)
        try TokenKeys.destroyKey(second)
    }

    /// A certificate issued for the token's key matches it, and no other key; the key cannot be
    /// read out of the token as a PEM.
    @Test func aCertificateIsMatchedToTheTokenKey() async throws {
        let token = try Self.token()
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let uri = try TokenKeys.generateKey(PKCS11URI(token: token.label, object: "device"))
        defer { _ = try? TokenKeys.destroyKey(uri) }
        let csr = pki.directory.file("device.csr").path
        try TokenKeys.certificateSigningRequest(uri, commonName: "tracker-9").write(toFile: csr, atomically: true, encoding: .utf8)
        let certificate = pki.directory.file("device.pem").path
        _ = try DeviceKeysTests().openssl(["x509", "-req", "-in", csr, "-CA", pki.path("ca.pem"), "-CAkey", pki.path("ca.key"),
                                           "-CAcreateserial", "-days", "1", "-out", certificate])
        let pem = try String(contentsOfFile: certificate, encoding: .utf8)
        #expect(TokenKeys.pair(certificatePEM: pem, key: uri) == .matching)
        #expect(TokenKeys.pair(certificatePEM: try String(contentsOfFile: pki.path("client.pem"), encoding: .utf8), key: uri) == .mismatched)
        #expect(TokenKeys.pair(certificatePEM: "garbage", key: uri) == .certificateUnreadable)
        let gone = PKCS11URI(token: token.label, object: "device", id: [1, 2, 3])
        #expect(TokenKeys.pair(certificatePEM: pem, key: gone) == .keyUnreadable)
    }

    /// The token's engine stays the token's: OpenSSL registers every listed engine for
    /// everything when it is initialised again (libmosquitto does at its first TLS connection),
    /// and a listed pkcs11 engine then took over every EC key, so that making an ordinary one
    /// (a file key, TLS's ephemeral keys) failed with "unknown group".
    @Test func keysOutsideTheTokenStillWorkOnceOpenSSLRegistersEngines() throws {
        let token = try Self.token()
        let uri = try TokenKeys.generateKey(PKCS11URI(token: token.label, object: "device"))
        defer { _ = try? TokenKeys.destroyKey(uri) }
        trackerd_test_register_all_engines()
        _ = try DeviceKeys.generateKey(.ecP256)
        _ = try DeviceKeys.generateKey(.rsa(bits: 2048))
        _ = try TokenKeys.certificateSigningRequest(uri, commonName: "tracker-9")
    }

    @Test func aPINFileOthersCanReadAMissingTokenOrASecondModuleIsRefused() throws {
        let token = try Self.token()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let open = dir.file("pin").path
        _ = FileManager.default.createFile(atPath: open, contents: Data("4711\n".utf8), attributes: [.posixPermissions: 0o644])
        #expect(throws: TokenKeys.TokenError.pinFile(path: open, problem: "is readable by others (mode 644): chmod 600 it")) {
            try TokenKeys.open(module: SoftHSMToken.module, pinFile: open)
        }
        let missing = dir.file("none").path
        #expect(throws: TokenKeys.TokenError.pinFile(path: missing, problem: "cannot be read: No such file or directory")) {
            try TokenKeys.open(module: SoftHSMToken.module, pinFile: missing)
        }
        // A wrong PIN is a trackerd test (TokenCredentialsTests): in this process the token
        // stays logged in (PKCS#11 login is per application), so no later PIN is asked for.
        #expect(throws: TokenKeys.TokenError.token(operation: "making a key in the token \"no-such-token\"",
                                                   reason: "no token labelled \"no-such-token\" in the module")) {
            try TokenKeys.generateKey(PKCS11URI(token: "no-such-token", object: "device"))
        }
        #expect(throws: TokenKeys.TokenError.token(operation: "opening the PKCS#11 module /usr/lib/other.so",
                                                   reason: "the PKCS#11 module \(SoftHSMToken.module) is in use; one module per process")) {
            try TokenKeys.open(module: "/usr/lib/other.so", pinFile: token.pinFile)
        }
    }
}
