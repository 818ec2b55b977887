import Testing
@testable import TrackerCore

/// The tracker's side of AWS IoT Jobs, message by message, across restarts: the ledger is
/// handed from one runner to the next as the file would be.
@Suite struct JobRunnerTests {
    static let prefix = "$aws/things/truck-7/jobs/"
    static let sha = String(repeating: "ab", count: 32)
    static let package = #"{"operation":"install-package","url":"https://files.example/trackerd_0.2.0_arm64.deb","sha256":"\#(sha)","size":1000,"version":"0.2.0"}"#
    static let zones = #"{"operation":"update-geofences","url":"https://files.example/zones.geojson","sha256":"\#(sha)"}"#

    static func execution(_ jobId: String, _ document: String) -> [UInt8] {
        Array(#"{"timestamp":1,"execution":{"jobId":"\#(jobId)","status":"IN_PROGRESS","versionNumber":2,"executionNumber":1,"jobDocument":\#(document)}}"#.utf8)
    }

    /// A message the runner must take (not nil).
    func receive(_ runner: inout JobRunner, _ topic: String, _ payload: [UInt8]) throws -> [JobRunner.Action] {
        let actions = runner.received(topic: topic, payload: payload)
        return try #require(actions)
    }

    func published(_ actions: [JobRunner.Action]) -> [(topic: String, body: JSONValue?)] {
        actions.compactMap { if case .publish(let topic, let payload) = $0 { (topic, JSONValue.parse(payload)) } else { nil } }
    }

    func saved(_ actions: [JobRunner.Action]) -> JobLedger? {
        actions.compactMap { if case .save(let ledger) = $0 { ledger } else { nil } }.last
    }

    @Test func aPackageIsDownloadedVerifiedInstalledAndSucceedsOnceTheNewVersionRuns() throws {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        #expect(published(runner.subscribed()).map(\.topic) == [Self.prefix + "start-next"])
        let start = try receive(&runner, Self.prefix + "start-next/accepted", Self.execution("upgrade-1", Self.package))
        #expect(start.contains(.download(jobId: "upgrade-1", url: "https://files.example/trackerd_0.2.0_arm64.deb", size: 1000)))
        #expect(saved(start)?.active?.step == .downloading, "the step is kept before the download starts")
        let done = runner.downloaded(.complete(size: 1000, sha256: Self.sha))
        #expect(done.contains(.install(jobId: "upgrade-1", version: "0.2.0")) && saved(done)?.active?.step == .installing)

        // trackerd 0.2.0 comes up with the ledger the old one left.
        var next = JobRunner(thingName: "truck-7", version: "0.2.0", ledger: runner.ledger, installResult: nil)
        _ = next.subscribed()
        let resumed = try receive(&next, Self.prefix + "start-next/accepted", Self.execution("upgrade-1", Self.package))
        let update = try #require(published(resumed).first)
        #expect(update.topic == Self.prefix + "upgrade-1/update" && update.body?["status"] == .string("SUCCEEDED"))
        #expect(update.body?["statusDetails"]?["version"] == .string("0.2.0"))
        let acknowledged = try receive(&next, Self.prefix + "upgrade-1/update/accepted", Array("{}".utf8))
        #expect(saved(acknowledged)?.active == nil && saved(acknowledged)?.ended.first == JobLedger.Ended(jobId: "upgrade-1", status: "SUCCEEDED"))
        #expect(acknowledged.contains(.removeFiles(jobId: "upgrade-1")) && published(acknowledged).last?.topic == Self.prefix + "start-next")
    }

    @Test func aWrongHashOrSizeFailsWithTheReasonAndNothingRuns() throws {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        _ = runner.subscribed()
        _ = runner.received(topic: Self.prefix + "start-next/accepted", payload: Self.execution("bad-hash", Self.package))
        let failed = runner.downloaded(.complete(size: 1000, sha256: String(repeating: "cd", count: 32)))
        #expect(!failed.contains { if case .install = $0 { true } else { false } })
        let update = try #require(published(failed).first)
        #expect(update.body?["status"] == .string("FAILED"))
        guard case .string(let reason)? = update.body?["statusDetails"]?["reason"] else { Issue.record("no reason"); return }
        #expect(reason.hasPrefix("sha256 mismatch: the document says abab"))

        var other = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        _ = other.received(topic: Self.prefix + "start-next/accepted", payload: Self.execution("short", Self.package))
        let short = other.downloaded(.complete(size: 999, sha256: Self.sha))
        #expect(published(short).first?.body?["statusDetails"]?["reason"] == .string("size mismatch: the document says 1000 bytes, the download has 999"))
    }

    /// The status was decided but the power went before the service acknowledged it: the next
    /// start sends it first; once ended, the same job id is never run again.
    @Test func aDecidedStatusSurvivesARestartAndAJobNeverRunsTwice() throws {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        _ = runner.received(topic: Self.prefix + "start-next/accepted", payload: Self.execution("zones-1", Self.zones))
        _ = runner.downloaded(.complete(size: 5, sha256: Self.sha))
        let applied = runner.geofencesApplied(.success(10_000))
        #expect(published(applied).first?.body?["statusDetails"]?["zones"] == .string("10000"))

        var rebooted = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: runner.ledger, installResult: nil)
        let first = rebooted.subscribed()
        #expect(published(first).map(\.topic) == [Self.prefix + "zones-1/update"], "the status first, no start-next yet")
        let acknowledged = try receive(&rebooted, Self.prefix + "zones-1/update/accepted", [])
        #expect(saved(acknowledged)?.ended.first?.status == "SUCCEEDED")

        // The service hands the same job out again (its record of the update was lost): only the status goes.
        let again = try receive(&rebooted, Self.prefix + "start-next/accepted", Self.execution("zones-1", Self.zones))
        #expect(!again.contains { if case .download = $0 { true } else { false } })
        #expect(published(again).first?.body?["status"] == .string("SUCCEEDED"))
    }

    @Test func aDocumentTheTrackerCannotCarryOutIsRejected() throws {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        for (document, reason) in [
            (#"{"operation":"reboot"}"#, "unknown operation \"reboot\"; this tracker does install-package, update-geofences, rotate-certificate"),
            (#"{"operation":"install-package","url":"http://plain.example/x.deb","sha256":"\#(Self.sha)","size":1,"version":"1"}"#,
             "install-package: url must be an https:// address"),
            (#"{"operation":"update-geofences","url":"https://x.example/z","sha256":"nothex"}"#, "update-geofences: sha256 must be 64 hexadecimal digits"),
        ] {
            let actions = try receive(&runner, Self.prefix + "start-next/accepted", Self.execution("odd", document))
            let update = try #require(published(actions).first)
            #expect(update.body?["status"] == .string("REJECTED") && update.body?["statusDetails"]?["reason"] == .string(reason))
            runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        }
    }

    /// The update unit could not install (or the new version never came up and it put the old
    /// one back): the old version, restarted, says FAILED with the unit's reason.
    @Test func anInstallThatFailedIsReportedByTheOldVersion() throws {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        _ = runner.received(topic: Self.prefix + "start-next/accepted", payload: Self.execution("upgrade-2", Self.package))
        _ = runner.downloaded(.complete(size: 1000, sha256: Self.sha))
        let unit = JobRunner.InstallResult(jobId: "upgrade-2", reason: "trackerd 0.2.0 did not connect within 120 s; 0.1.0 was reinstalled")
        var back = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: runner.ledger, installResult: unit)
        let resumed = try receive(&back, Self.prefix + "start-next/accepted", Self.execution("upgrade-2", Self.package))
        let update = try #require(published(resumed).first)
        #expect(update.body?["status"] == .string("FAILED") && update.body?["statusDetails"]?["reason"] == .string(unit.reason))

        // Without a word from the unit yet, it waits rather than guess.
        var early = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: runner.ledger, installResult: nil)
        let waiting = try receive(&early, Self.prefix + "start-next/accepted", Self.execution("upgrade-2", Self.package))
        #expect(published(waiting).isEmpty)
    }

    /// A power cut mid-download: the next start asks again and resumes the same download.
    @Test func anInterruptedDownloadResumes() throws {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        _ = runner.received(topic: Self.prefix + "start-next/accepted", payload: Self.execution("upgrade-3", Self.package))
        let logs = runner.progressed(bytes: 450, total: 1000) + runner.progressed(bytes: 460, total: 1000) + runner.progressed(bytes: 500, total: 1000)
        #expect(logs.count == 2, "one line per tenth reached")
        var rebooted = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: runner.ledger, installResult: nil)
        _ = rebooted.subscribed()
        let resumed = try receive(&rebooted, Self.prefix + "start-next/accepted", Self.execution("upgrade-3", Self.package))
        #expect(resumed.contains(.download(jobId: "upgrade-3", url: "https://files.example/trackerd_0.2.0_arm64.deb", size: 1000)))
        // A reconnection while it runs: start-next hands the same job back; one download only.
        _ = rebooted.subscribed()
        let again = try receive(&rebooted, Self.prefix + "start-next/accepted", Self.execution("upgrade-3", Self.package))
        #expect(!again.contains { if case .download = $0 { true } else { false } })
    }

    @Test func notificationsCancellationsAndRefusedUpdates() throws {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        let notified = try receive(&runner, Self.prefix + "notify-next", Self.execution("j1", Self.zones))
        #expect(published(notified).map(\.topic) == [Self.prefix + "start-next"])
        #expect(runner.received(topic: Self.prefix + "notify-next", payload: Self.execution("j1", Self.zones)) == [], "one request at a time")
        _ = runner.received(topic: Self.prefix + "start-next/accepted", payload: Self.execution("j1", Self.zones))
        #expect(runner.received(topic: Self.prefix + "notify-next", payload: Self.execution("j2", Self.zones)) == [], "one job at a time")

        // Cancelled at the service: start-next finds nothing pending.
        var restarted = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: runner.ledger, installResult: nil)
        let nothing = try receive(&restarted, Self.prefix + "start-next/accepted", Array(#"{"timestamp":2}"#.utf8))
        #expect(saved(nothing)?.active == nil && nothing.contains(.removeFiles(jobId: "j1")))

        var refused = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        _ = refused.received(topic: Self.prefix + "start-next/accepted", payload: Self.execution("j3", #"{"operation":"x"}"#))
        let throttled = try receive(&refused, Self.prefix + "j3/update/rejected", Array(#"{"code":"RequestThrottled","message":"slow down"}"#.utf8))
        #expect(saved(throttled) == nil && refused.ledger.active?.outcome != nil, "kept: sent again at the next connection")
        let gone = try receive(&refused, Self.prefix + "j3/update/rejected", Array(#"{"code":"TerminalStateReached","message":"done"}"#.utf8))
        #expect(saved(gone)?.active == nil && saved(gone)?.ended.first?.jobId == "j3")
        #expect(refused.received(topic: "$aws/things/other/jobs/notify-next", payload: []) == nil)
    }
}

extension JobRunnerTests {
    /// What `trackerd status` shows of the job in hand.
    @Test func theStatusShowsTheJobAndItsProgress() throws {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil)
        #expect(TrackerStatus.Job(runner) == nil)
        _ = try receive(&runner, Self.prefix + "start-next/accepted", Self.execution("upgrade-9", Self.package))
        _ = runner.progressed(bytes: 250, total: 1000)
        let job = try #require(TrackerStatus.Job(runner))
        #expect(job.jobId == "upgrade-9" && job.operation == "install-package" && job.step == "downloading")
        #expect(job.bytes == 250 && job.total == 1000)
    }
}

/// rotate-certificate: the runner asks for a restart with a rotation, and the next start says
/// how it went by the certificate in use (or the reason the rotation failed).
@Suite struct RotateCertificateJobTests {
    static let document = #"{"operation":"rotate-certificate"}"#

    func start(certificate: String) throws -> (JobRunner, [JobRunner.Action]) {
        var runner = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: JobLedger(), installResult: nil, certificateId: certificate)
        _ = runner.subscribed()
        let received = runner.received(topic: JobRunnerTests.prefix + "start-next/accepted", payload: JobRunnerTests.execution("rotate-1", Self.document))
        return (runner, try #require(received))
    }

    func resumed(_ ledger: JobLedger, certificate: String, failure: String? = nil) throws -> [JobRunner.Action] {
        var next = JobRunner(thingName: "truck-7", version: "0.1.0", ledger: ledger, installResult: nil, certificateId: certificate,
                             rotationFailure: failure)
        _ = next.subscribed()
        let received = next.received(topic: JobRunnerTests.prefix + "start-next/accepted", payload: JobRunnerTests.execution("rotate-1", Self.document))
        return try #require(received)
    }

    @Test func aRotationIsAskedForAndSucceedsWithTheNewCertificate() throws {
        let (runner, actions) = try start(certificate: "aaaa")
        #expect(actions.contains(.rotateCertificate(jobId: "rotate-1")))
        #expect(!actions.contains { if case .download = $0 { true } else { false } }, "nothing to download")
        let ledger = try #require(JobRunnerTests().saved(actions))
        #expect(ledger.active?.step == .rotating && ledger.active?.fromCertificate == "aaaa", "kept before the restart")

        let after = try resumed(runner.ledger, certificate: "bbbb")
        let update = try #require(JobRunnerTests().published(after).first)
        #expect(update.body?["status"] == .string("SUCCEEDED") && update.body?["statusDetails"]?["certificateId"] == .string("bbbb"))
    }

    @Test func aFailedRotationFailsTheJobWithItsReasonAndAnUnchangedOneWaits() throws {
        let (runner, _) = try start(certificate: "aaaa")
        let failed = try resumed(runner.ledger, certificate: "aaaa", failure: "RegisterThing was rejected")
        let update = try #require(JobRunnerTests().published(failed).first)
        #expect(update.body?["status"] == .string("FAILED") && update.body?["statusDetails"]?["reason"] == .string("RegisterThing was rejected"))
        let waiting = try resumed(runner.ledger, certificate: "aaaa")
        #expect(JobRunnerTests().published(waiting).isEmpty, "no status until the rotation has happened or failed")
        #expect(!waiting.contains(.rotateCertificate(jobId: "rotate-1")), "and no second restart")
    }
}
