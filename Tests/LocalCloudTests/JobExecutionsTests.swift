import Testing
import TrackerCore
@testable import LocalCloud

/// localcloud's AWS IoT Jobs semantics for one thing: order, state rules and error codes.
@Suite struct JobExecutionsTests {
    func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    func thing(_ executions: [JobExecutions.Execution]) -> JobExecutions {
        JobExecutions(thingName: "truck-7", executions: executions,
                      documents: Dictionary(uniqueKeysWithValues: executions.map { ($0.jobId, JSONValue.object(["operation": .string("x")])) }))
    }

    @Test func startNextHandsOutTheOldestQueuedJobAndThenKeepsHandingItOut() throws {
        var jobs = thing([JobExecutions.Execution(jobId: "later", queuedAt: 20), JobExecutions.Execution(jobId: "first", queuedAt: 10)])
        let reply = try #require(jobs.startNext(json(#"{"clientToken":"c1"}"#), now: 30).first)
        #expect(reply.suffix == "start-next/accepted" && reply.payload["clientToken"] == .string("c1"))
        let execution = try #require(reply.payload["execution"])
        #expect(execution["jobId"] == .string("first") && execution["status"] == .string("IN_PROGRESS"))
        #expect(execution["versionNumber"] == .number(2) && execution["startedAt"] == .number(30) && execution["jobDocument"] != nil)
        // A restart asks again: the same job, IN_PROGRESS before anything QUEUED.
        #expect(jobs.startNext(json("{}"), now: 40).first?.payload["execution"]?["jobId"] == .string("first"))
        #expect(jobs.nextNotification(now: 41)["execution"]?["jobId"] == .string("first"))
    }

    @Test func updatesFollowAWSsRules() throws {
        var jobs = thing([JobExecutions.Execution(jobId: "j1", queuedAt: 10)])
        _ = jobs.startNext(json("{}"), now: 11)
        let progress = jobs.update(jobId: "j1", json(#"{"status":"IN_PROGRESS","statusDetails":{"step":"downloading"},"includeJobExecutionState":true}"#), now: 12)
        #expect(progress.first?.suffix == "j1/update/accepted" && progress.first?.payload["executionState"]?["versionNumber"] == .number(3))
        let stale = jobs.update(jobId: "j1", json(#"{"status":"SUCCEEDED","expectedVersion":2}"#), now: 13)
        #expect(stale.first?.suffix == "j1/update/rejected" && stale.first?.payload["code"] == .string("VersionMismatch"))
        #expect(stale.first?.payload["executionState"]?["status"] == .string("IN_PROGRESS"))
        let numbers = jobs.update(jobId: "j1", json(#"{"status":"FAILED","statusDetails":{"bytes":12}}"#), now: 13)
        #expect(numbers.first?.payload["code"] == .string("InvalidRequest"), "statusDetails values are strings")
        let unknown = jobs.update(jobId: "j1", json(#"{"status":"DONE"}"#), now: 13)
        #expect(unknown.first?.payload["code"] == .string("InvalidRequest"))
        #expect(jobs.update(jobId: "j1", json(#"{"status":"SUCCEEDED","statusDetails":{"version":"0.2.0"}}"#), now: 14).first?.suffix == "j1/update/accepted")
        let after = jobs.update(jobId: "j1", json(#"{"status":"FAILED"}"#), now: 15)
        #expect(after.first?.payload["code"] == .string("InvalidStateTransition"), "a terminal state is final")
        #expect(jobs.update(jobId: "nope", json(#"{"status":"FAILED"}"#), now: 15).first?.payload["code"] == .string("ResourceNotFound"))
        #expect(jobs.update(jobId: "j1", json("not json"), now: 15).first?.payload["code"] == .string("InvalidJson"))
        // Nothing pending now: start-next answers without an execution, the notification too.
        #expect(jobs.startNext(json("{}"), now: 16).first?.payload["execution"] == nil)
        #expect(jobs.nextNotification(now: 16) == .object(["timestamp": .number(16)]))
    }

    @Test func pendingSummariesAndDescribe() {
        var jobs = thing([JobExecutions.Execution(jobId: "a", queuedAt: 1), JobExecutions.Execution(jobId: "b", queuedAt: 2)])
        _ = jobs.startNext(json("{}"), now: 3)
        let summary = jobs.pendingSummaries(json(#"{"clientToken":"t"}"#), now: 4)
        guard case .array(let running)? = summary.payload["inProgressJobs"], case .array(let queued)? = summary.payload["queuedJobs"] else {
            Issue.record("no lists"); return
        }
        #expect(running.first?["jobId"] == .string("a") && queued.first?["jobId"] == .string("b") && running.first?["jobDocument"] == nil)
        #expect(jobs.describe(jobId: "b", [], now: 5).payload["execution"]?["status"] == .string("QUEUED"))
        #expect(jobs.describe(jobId: "c", [], now: 5).suffix == "c/get/rejected")
    }
}
