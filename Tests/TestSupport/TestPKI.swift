import Foundation

/// A throwaway certificate authority and certificates for one test, made with openssl by
/// Tests/Fixtures/make-test-pki.sh (see there for the list of files).
public struct TestPKI: Sendable {
    public let directory: TemporaryDirectory

    public init(clientCommonName: String = "tracker-1") throws {
        directory = try TemporaryDirectory("trackerd-pki")
        let script = SharedTestData.repositoryRoot.appendingPathComponent("Tests/Fixtures/make-test-pki.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, directory.path]
        process.environment = ProcessInfo.processInfo.environment.merging(["CLIENT_CN": clientCommonName]) { $1 }
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "make-test-pki.sh failed"])
        }
    }

    public func path(_ name: String) -> String { directory.file(name).path }

    public func remove() { directory.remove() }
}
