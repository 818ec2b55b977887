import Foundation
import Synchronization

/// Removed when the test process exits (the token lives as long as the process's module).
private let inProcessDirectory = Mutex<String?>(nil)

/// A SoftHSM2 token (Debian's softhsm2) in a temporary directory, initialised with a label, a
/// user PIN and a PIN file (0600): a real PKCS#11 module for tests of keys in hardware.
public struct SoftHSMToken: Sendable {
    public static let module = "/usr/lib/softhsm/libsofthsm2.so"
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/softhsm2-util") }

    public let directory: TemporaryDirectory
    public let label: String
    public let pin: String

    public var configFile: String { directory.file("softhsm2.conf").path }
    public var pinFile: String { directory.file("pin").path }
    public var tokens: String { directory.file("tokens").path }
    /// What a process using the token needs: SoftHSM reads its configuration from here.
    public var environment: [String: String] { ["SOFTHSM2_CONF": configFile] }

    /// A new token with its own directory, configuration and PIN file.
    public init(label: String = "trackerd", pin: String = "4711") throws {
        directory = try TemporaryDirectory("trackerd-softhsm")
        self.label = label
        self.pin = pin
        try FileManager.default.createDirectory(atPath: tokens, withIntermediateDirectories: true)
        try "directories.tokendir = \(tokens)\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: configFile, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: pinFile, contents: Data((pin + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/softhsm2-util")
        process.arguments = ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "so-" + pin]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey:
                "softhsm2-util --init-token failed: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))"])
        }
    }

    /// The token this test process opens itself: SoftHSM reads SOFTHSM2_CONF once, when the
    /// module is first initialised, and a process has one PKCS#11 module (see CTokenKey).
    public static let inProcess: Result<SoftHSMToken, any Error> = {
        Result {
            let token = try SoftHSMToken(label: "trackerd-tests")
            setenv("SOFTHSM2_CONF", token.configFile, 1)
            inProcessDirectory.withLock { $0 = token.directory.path }
            atexit { inProcessDirectory.withLock { $0 }.map { try? FileManager.default.removeItem(atPath: $0) } }
            return token
        }
    }()

    public func remove() { directory.remove() }
}
