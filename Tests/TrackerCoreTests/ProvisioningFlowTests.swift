import Foundation
import Testing
@testable import TrackerCore

@Suite struct ProvisioningFlowTests {
    let t0 = UTCTimestamp(iso8601: "2026-11-27T08:00:00Z")!
    let csrTopic = "$aws/certificates/create-from-csr/json"
    let registerTopic = "$aws/provisioning-templates/iotDeviceTemplateName/provision/json"

    func flow(_ method: ProvisioningFlow.Method = .csr("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"),
              pending: PendingCertificate? = nil) -> ProvisioningFlow {
        ProvisioningFlow(method: method, template: "iotDeviceTemplateName", parameters: ["SerialNumber": "10000000abcd"],
                         pending: pending)
    }

    func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    func object(_ payload: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
    }

    let certificateReply = #"{"certificateId":"abc123","certificatePem":"-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n","certificateOwnershipToken":"token-1"}"#

    @Test func csrHappyPathInOrder() throws {
        var f = flow()
        #expect(f.handle(.start(now: t0)) == [.connectWithClaim])
        #expect(f.handle(.connected) == [.subscribe([csrTopic + "/accepted", csrTopic + "/rejected"]), .startTimer(generation: 1, duration: .seconds(10))])
        #expect(f.handle(.message(topic: csrTopic + "/accepted", payload: json(certificateReply))) == [], "nothing before the request")
        let request = f.handle(.subscribed)
        guard case .publish(let topic, let payload) = request.first else { Issue.record("no publish: \(request)"); return }
        #expect(topic == csrTopic)
        #expect(try object(payload)["certificateSigningRequest"] as? String == "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")
        #expect(request.last == .startTimer(generation: 2, duration: .seconds(10)))

        let pending = PendingCertificate(certificateId: "abc123", certificatePem: "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n",
                                         privateKey: nil, ownershipToken: "token-1", requestedAt: t0)
        #expect(f.handle(.message(topic: csrTopic + "/accepted", payload: json(certificateReply)))
                == [.log("CreateCertificateFromCsr accepted: certificate abc123"), .storePending(pending)])
        #expect(f.handle(.timeout(generation: 2)) == [], "the answer came in time")
        #expect(f.handle(.stored) == [.subscribe([registerTopic + "/accepted", registerTopic + "/rejected"]), .startTimer(generation: 4, duration: .seconds(10))])
        let register = f.handle(.subscribed)
        guard case .publish(let registerTo, let registerPayload) = register.first else { Issue.record("no RegisterThing"); return }
        #expect(registerTo == registerTopic)
        let body = try object(registerPayload)
        #expect(body["certificateOwnershipToken"] as? String == "token-1")
        #expect(body["parameters"] as? [String: String] == ["SerialNumber": "10000000abcd"])
        let done = f.handle(.message(topic: registerTopic + "/accepted",
                                     payload: json(#"{"deviceConfiguration":{"Fallback":"false"},"thingName":"tracker_10000000abcd"}"#)))
        let result = ProvisioningResult(thingName: "tracker_10000000abcd", deviceConfiguration: ["Fallback": "false"],
                                        certificateId: "abc123", provisionedAt: t0)
        #expect(done == [.log("RegisterThing accepted: thing tracker_10000000abcd"), .complete(result)])
        #expect(f.state == .done(result))
        #expect(f.handle(.disconnected(reason: "bye")) == [])
    }

    @Test func createKeysNeedsTheKeyInTheReply() {
        var f = flow(.createKeys)
        _ = f.handle(.start(now: t0))
        _ = f.handle(.connected)
        #expect(f.handle(.subscribed).first == .publish(topic: "$aws/certificates/create/json", payload: json("{}")))
        let withKey = #"{"certificateId":"k1","certificatePem":"PEM","privateKey":"KEY","certificateOwnershipToken":"t"}"#
        var g = f
        if case .storePending(let pending) = g.handle(.message(topic: "$aws/certificates/create/json/accepted", payload: json(withKey))).last {
            #expect(pending.privateKey == "KEY")
        } else { Issue.record("not stored") }
        #expect(f.handle(.message(topic: "$aws/certificates/create/json/accepted", payload: json(certificateReply))) == [.fail(.missingPrivateKey)])
    }

    func atRegistration() -> ProvisioningFlow {
        var f = flow()
        _ = f.handle(.start(now: t0))
        _ = f.handle(.connected)
        _ = f.handle(.subscribed)
        _ = f.handle(.message(topic: csrTopic + "/accepted", payload: json(certificateReply)))
        _ = f.handle(.stored)
        _ = f.handle(.subscribed)
        return f
    }

    @Test func aBadParameterFailsForGoodWithAWSsWords() {
        var f = atRegistration()
        let actions = f.handle(.message(topic: registerTopic + "/rejected",
                                        payload: json(#"{"statusCode":400,"errorCode":"InvalidParameters","errorMessage":"Missing parameter SerialNumber"}"#)))
        guard case .fail(let failure) = actions.first else { Issue.record("\(actions)"); return }
        #expect(failure.description == #"RegisterThing was rejected (statusCode 400, errorCode InvalidParameters, errorMessage "Missing parameter SerialNumber"); check [provisioning] parameters against the template's Parameters"#)
        #expect(f.handle(.start(now: t0)) == [], "a failed flow stays failed")
    }

    @Test(arguments: [
        #"{"statusCode":429,"errorCode":"Throttling","errorMessage":"Rate exceeded"}"#,
        #"{"statusCode":500,"errorCode":"InternalFailure","errorMessage":"oops"}"#,
        #"{"statusCode":400,"errorCode":"ThrottlingException","errorMessage":"slow down"}"#,
    ])
    func throttlingAndServerErrorsAreRetried(reply: String) {
        var f = flow()
        _ = f.handle(.start(now: t0))
        _ = f.handle(.connected)
        _ = f.handle(.subscribed)
        let actions = f.handle(.message(topic: csrTopic + "/rejected", payload: json(reply)))
        #expect(actions.contains { if case .retry = $0 { true } else { false } })
        #expect(f.state == .waitingToRetry)
        #expect(f.handle(.start(now: t0)) == [.connectWithClaim])
    }

    @Test func aTimeoutOfTheCurrentStepIsRetriedAStaleOneIgnored() {
        var f = flow()
        _ = f.handle(.start(now: t0))
        _ = f.handle(.connected)
        _ = f.handle(.subscribed)
        #expect(f.handle(.timeout(generation: 1)) == [])
        #expect(f.handle(.timeout(generation: 2)) == [.retry(reason: "no answer within 10 s (CreateCertificateFromCsr)")])
    }

    @Test func aCrashAfterTheCertificateResumesAtRegisterThing() {
        var f = atRegistration()
        #expect(f.handle(.disconnected(reason: "killed")).first == .retry(reason: "connection lost during RegisterThing: killed"))
        // A new process: the pending certificate comes back from the store.
        var restarted = flow(pending: f.pending)
        #expect(restarted.handle(.start(now: t0.adding(milliseconds: 20 * 60_000))) == [.connectWithClaim])
        let resumed = restarted.handle(.connected)
        #expect(resumed.first == .log("resuming with the pending certificate abc123: RegisterThing"))
        #expect(resumed.dropFirst().first == .subscribe([registerTopic + "/accepted", registerTopic + "/rejected"]))
    }

    @Test func aTokenOlderThanAnHourStartsOver() {
        let old = PendingCertificate(certificateId: "old", certificatePem: "PEM", privateKey: nil, ownershipToken: "t", requestedAt: t0)
        var f = flow(pending: old)
        let actions = f.handle(.start(now: t0.adding(milliseconds: 3_600_000)))
        #expect(actions.first == .discardPending)
        #expect(actions.last == .connectWithClaim)
        #expect(f.handle(.connected).first == .subscribe([csrTopic + "/accepted", csrTopic + "/rejected"]))
    }

    @Test func aRefusedTokenDiscardsThePendingCertificate() {
        var f = atRegistration()
        let actions = f.handle(.message(topic: registerTopic + "/rejected",
                                        payload: json(#"{"statusCode":400,"errorCode":"InvalidCertificateOwnershipToken","errorMessage":"The certificate ownership token has expired"}"#)))
        #expect(actions.first == .discardPending)
        #expect(f.pending == nil)
        _ = f.handle(.start(now: t0))
        #expect(f.handle(.connected).first == .subscribe([csrTopic + "/accepted", csrTopic + "/rejected"]))
    }

    @Test func unreadableRepliesAndOtherTopics() {
        var f = flow()
        _ = f.handle(.start(now: t0))
        _ = f.handle(.connected)
        _ = f.handle(.subscribed)
        #expect(f.handle(.message(topic: "gpsTopic", payload: json("{}"))) == [])
        #expect(f.handle(.message(topic: csrTopic + "/accepted", payload: json("not json"))).first
                == .retry(reason: "CreateCertificateFromCsr answered with a reply that is not AWS's format"))
    }

    @Test func pendingCertificatesSurviveJSON() throws {
        let pending = PendingCertificate(certificateId: "a", certificatePem: "P", privateKey: "K", ownershipToken: "t", requestedAt: t0)
        let data = try JSONEncoder().encode(pending)
        #expect(try JSONDecoder().decode(PendingCertificate.self, from: data) == pending)
    }
}
