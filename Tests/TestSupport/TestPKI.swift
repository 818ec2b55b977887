import Foundation

/// A throwaway certificate authority and certificates for one test, made with openssl by
/// Tests/Fixtures/make-test-pki.sh (see there for the list of files).
public struct TestPKI: Sendable {
    public let directory: TemporaryDirectory

    /// Runs the script as a child process and awaits it, so that making keys does not hold one
    /// of Swift's few pool threads (tests run in parallel on two cores).
    public static func make(clientCommonName: String = "tracker-1") async throws -> TestPKI {
        let directory = try TemporaryDirectory("trackerd-pki")
        let script = SharedTestData.repositoryRoot.appendingPathComponent("Tests/Fixtures/make-test-pki.sh").path
        let run = try ChildProcess("/bin/bash", [script, directory.path], environment: ["CLIENT_CN": clientCommonName])
        guard await run.waitForExit(timeout: .seconds(60)) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "make-test-pki.sh failed: \(run.stderrLines.items)"])
        }
        return TestPKI(directory: directory)
    }

    private init(directory: TemporaryDirectory) {
        self.directory = directory
    }

    public func path(_ name: String) -> String { directory.file(name).path }

    public func remove() { directory.remove() }
}
