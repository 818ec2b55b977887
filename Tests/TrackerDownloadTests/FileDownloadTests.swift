import Foundation
import LocalCloud
import Testing
import TestSupport
import TrackerDownload
import TrackerSystem

/// Real HTTPS downloads (libcurl) from localcloud's file server (OpenSSL), on loopback, with a
/// throwaway CA: verified, resumed after an interruption, and refused for the right reasons.
@Suite struct FileDownloadTests {
    struct Setup {
        let pki: TestPKI
        let files: TemporaryDirectory
        let server: FileServer
        let content: Data
        let sha256: String

        /// `size` random bytes served as /payload.bin, at `rate` bytes/s (0: as fast as it goes).
        static func start(size: Int = 1_000_000, rate: Int = 0) async throws -> Setup {
            let pki = try await TestPKI.make()
            let files = try TemporaryDirectory("trackerd-files")
            var generator = SeededGenerator(seed: 7)
            let content = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try content.write(to: files.file("payload.bin"))
            let digest = try ChildProcess("/usr/bin/sha256sum", [files.file("payload.bin").path])
            _ = await digest.waitForExit(timeout: .seconds(10))
            let sha256 = String(digest.stdoutLines.items.first?.prefix(64) ?? "")
            let server = try FileServer(root: files.path, port: LoopbackPort.free(), certificate: pki.path("server.pem"),
                                        key: pki.path("server.key"), bytesPerSecond: rate)
            return Setup(pki: pki, files: files, server: server, content: content, sha256: sha256)
        }

        func download(_ name: String = "payload.bin", ca: String = "ca.pem", into path: String) -> FileDownload {
            var download = FileDownload(url: server.url(for: name), caFile: pki.path(ca), path: path)
            download.attempts = 2
            download.backoff = .init(base: .milliseconds(10), cap: .milliseconds(20))
            return download
        }

        func stop() {
            server.stop()
            pki.remove()
            files.remove()
        }
    }

    @Test func aFileArrivesWholeWithItsDigest() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let target = setup.files.file("received.part").path
        let seen = EventLog<Int64>()
        let result = setup.download(into: target).run(stop: StopFlag()) { bytes, _ in seen.append(bytes) }
        let (size, sha256) = try result.get()
        #expect(size == 1_000_000 && sha256 == setup.sha256)
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == setup.content)
        #expect(seen.items.last == 1_000_000)
    }

    /// Cut at about 30 % (the power goes), then a new attempt asks only for the rest.
    @Test func anInterruptedDownloadResumesWhereItStopped() async throws {
        let setup = try await Setup.start(size: 600_000, rate: 300_000)
        defer { setup.stop() }
        let target = setup.files.file("resumed.part").path
        let stop = StopFlag()
        let first = setup.download(into: target).run(stop: stop) { bytes, _ in if bytes >= 180_000 { stop.set() } }
        guard case .failure(.stopped) = first else { Issue.record("\(first)"); return }
        let kept = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
        #expect(kept >= 180_000 && kept < 600_000, "\(kept) bytes kept")
        let starts = EventLog<Int64>()
        let second = setup.download(into: target).run(stop: StopFlag()) { bytes, _ in if starts.items.isEmpty { starts.append(bytes) } }
        let (size, sha256) = try second.get()
        #expect(size == 600_000 && sha256 == setup.sha256, "the resumed file is the file")
        #expect((starts.items.first ?? 0) >= Int64(kept), "the second attempt began after the kept bytes")
    }

    @Test func refusalsSayWhy() async throws {
        let setup = try await Setup.start(size: 1000)
        defer { setup.stop() }
        let missing = setup.download("nothing-here.bin", into: setup.files.file("a.part").path).run(stop: StopFlag()) { _, _ in }
        guard case .failure(.refused(let reason)) = missing else { Issue.record("\(missing)"); return }
        #expect(reason.hasPrefix("HTTP 404"))
        let untrusted = setup.download(ca: "other-ca.pem", into: setup.files.file("b.part").path).run(stop: StopFlag()) { _, _ in }
        guard case .failure(.refused) = untrusted else { Issue.record("a server the CA did not sign: \(untrusted)"); return }
        // A partial file longer than the file (it changed on the server): started again, right.
        try Data(repeating: 1, count: 5000).write(to: setup.files.file("c.part"))
        let restarted = setup.download(into: setup.files.file("c.part").path).run(stop: StopFlag()) { _, _ in }
        #expect((try? restarted.get().sha256) == setup.sha256)
        var closed = FileDownload(url: "https://127.0.0.1:\(LoopbackPort.free())/x", caFile: setup.pki.path("ca.pem"),
                                  path: setup.files.file("d.part").path)
        closed.attempts = 2
        closed.backoff = .init(base: .milliseconds(10), cap: .milliseconds(20))
        guard case .failure(.gaveUp(let attempts, _)) = closed.run(stop: StopFlag(), progress: { _, _ in }) else {
            Issue.record("nothing listening is worth retrying"); return
        }
        #expect(attempts == 2)
    }
}
