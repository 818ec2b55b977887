import Foundation
import Logging
import Testing
import TestSupport
import TrackerCore
import TrackerCrypto
import TrackerMQTT
import TrackerProvisioning
import TrackerStorage
@testable import LocalCloud

/// The device's FleetProvisioner against localcloud's ProvisioningService, over a real
/// mosquitto with TLS client certificates: AWS's topics and payloads end to end.
@Suite struct FleetProvisioningTests {
    struct Cloud {
        let pki: TestPKI
        let broker: MosquittoBroker
        let registry: ThingRegistry
        let task: Task<Void, Never>
        let logs: EventLog<CapturingLogHandler.Entry>

        static func start(options: ProvisioningService.Options = .init()) async throws -> Cloud {
            let pki = try await TestPKI.make()
            let broker = try MosquittoBroker(pki: pki)
            try await broker.start()
            let authority = CertificateAuthority(certificatePEM: try String(contentsOfFile: pki.path("ca.pem"), encoding: .utf8),
                                                 keyPEM: try String(contentsOfFile: pki.path("ca.key"), encoding: .utf8))
            let template = try ProvisioningTemplate(name: "iotDeviceTemplateName", json: ProvisioningTemplateTests.original)
            let registry = try ThingRegistry(path: pki.path("registry.json"))
            let logs = EventLog<CapturingLogHandler.Entry>()
            let connection = try MQTTConnection(
                settings: MQTTSettings(host: "localhost", port: broker.port, caFile: pki.path("ca.pem"), certFile: pki.path("client.pem"),
                                       keyFile: pki.path("client.key"), clientID: "localcloud"),
                logger: CapturingLogHandler.logger(logs))
            let service = ProvisioningService(connection: connection, authority: authority, templates: [template], registry: registry,
                                              options: options, logger: CapturingLogHandler.logger(logs))
            let ready = EventLog<Bool>()
            let task = Task { await service.run { ready.append(true) } }
            guard await ready.wait(timeout: .seconds(20), until: { !$0.isEmpty }) else {
                task.cancel()
                // Once, all of these failed together here on a loaded machine: say what the
                // service's client saw, to tell a slow start from a refused connection.
                Issue.record("localcloud's provisioning service was not ready within 20 s: \(logs.items.suffix(5))")
                throw CocoaError(.fileReadUnknown)
            }
            return Cloud(pki: pki, broker: broker, registry: registry, task: task, logs: logs)
        }

        func provisioner(_ store: CredentialStore, change: (inout ProvisioningConfig) -> Void = { _ in },
                         logs: EventLog<CapturingLogHandler.Entry>) -> FleetProvisioner {
            var config = ProvisioningConfig()
            config.claimCert = pki.path("client.pem")
            config.claimKey = pki.path("client.key")
            config.stepTimeout = .seconds(5)
            change(&config)
            return FleetProvisioner(settings: .init(host: "localhost", port: broker.port, caFile: pki.path("ca.pem"),
                                                    provisioning: config, serial: "10000000abcd", mac: "b8:27:eb:00:00:01"),
                                    store: store, logger: CapturingLogHandler.logger(logs),
                                    backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(100)))
        }

        func stop() {
            task.cancel()
            pki.remove()
        }
    }

    @Test(arguments: [ProvisioningConfig.Method.csr, .createKeys])
    func firstBootProvisionsAndTheNewCertificateConnects(method: ProvisioningConfig.Method) async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try CredentialStore(directory: dir.path + "/state")
        let logs = EventLog<CapturingLogHandler.Entry>()
        let result = try await cloud.provisioner(store, change: { $0.method = method }, logs: logs).provision()

        #expect(result.thingName == "tracker_10000000abcd")
        #expect(result.deviceConfiguration == ["site": "depot-1", "reportIntervalSeconds": "1"])
        #expect(try store.activeRecord() == result)
        let certificate = try String(contentsOfFile: store.activeCertificate, encoding: .utf8)
        let key = try String(contentsOfFile: store.activeKey, encoding: .utf8)
        #expect(DeviceKeys.certificate(certificate, matches: key) == true)
        #expect(DeviceKeys.info(certificate)?.certificateId == result.certificateId)
        if method == .csr { #expect(DeviceKeys.commonName(certificate) == "10000000abcd", "the CSR's CN is the serial") }
        #expect(cloud.registry.thing(named: "tracker_10000000abcd")?.certificateId == result.certificateId)
        #expect(FileManager.default.contentsEqual(atPath: store.deviceDirectory + "/ca.pem", andPath: cloud.pki.path("ca.pem")))

        // Nothing secret reached the log.
        let logged = logs.items.map(\.message).joined(separator: "\n") + cloud.logs.items.map(\.message).joined(separator: "\n")
        #expect(!logged.contains("PRIVATE KEY") && !logged.contains("BEGIN CERTIFICATE"))

        // The unique certificate is a working identity.
        let unique = try MQTTConnection(settings: MQTTSettings(host: "localhost", port: cloud.broker.port, caFile: cloud.pki.path("ca.pem"),
                                                               certFile: store.activeCertificate, keyFile: store.activeKey,
                                                               clientID: result.thingName),
                                        logger: CapturingLogHandler.logger(EventLog()))
        let events = EventLog<MQTTEvent>()
        let task = Task { for await event in unique.events { events.append(event) } }
        defer { task.cancel() }
        unique.start()
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        await unique.shutdown()

        // A second start does not provision again.
        let again = try await cloud.provisioner(store, logs: EventLog()).provision()
        #expect(again == result)
    }

    @Test func aRejectedRegistrationStopsWithAWSsErrorAndKeepsThePendingCertificate() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try CredentialStore(directory: dir.path + "/state")
        let logs = EventLog<CapturingLogHandler.Entry>()
        do {
            _ = try await cloud.provisioner(store, change: { $0.parameters = [:] }, logs: logs).provision()
            Issue.record("a registration without SerialNumber was accepted")
        } catch {
            guard case .rejected(let failure) = error, case .rejected(let step, let rejection) = failure else {
                Issue.record("\(error)")
                return
            }
            #expect(step == "RegisterThing")
            #expect(rejection == ProvisioningRejection(statusCode: 400, errorCode: "InvalidParameters",
                                                       errorMessage: "Missing required parameter: SerialNumber"))
        }
        #expect(logs.items.contains { $0.level == .error && $0.message.contains("errorCode InvalidParameters") && $0.message.contains("check [provisioning] parameters") })
        #expect(try store.loadPending() != nil)

        // Fixed and restarted: it resumes with the pending certificate.
        let resumed = EventLog<CapturingLogHandler.Entry>()
        let result = try await cloud.provisioner(store, logs: resumed).provision()
        #expect(result.thingName == "tracker_10000000abcd")
        #expect(resumed.items.contains { $0.message.contains("resuming with the pending certificate") })
    }

    @Test func throttlingIsRetried() async throws {
        var options = ProvisioningService.Options()
        options.throttleEvery = 2
        let cloud = try await Cloud.start(options: options)
        defer { cloud.stop() }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try CredentialStore(directory: dir.path + "/state")
        let logs = EventLog<CapturingLogHandler.Entry>()
        let result = try await cloud.provisioner(store, logs: logs).provision()
        #expect(result.thingName == "tracker_10000000abcd")
        #expect(logs.items.contains { $0.message.contains("rejected (Throttling); trying again") })
    }

    @Test func aClaimKeyOthersCanReadIsRefused() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        chmod(cloud.pki.path("client.key"), 0o644)
        do {
            _ = try await cloud.provisioner(try CredentialStore(directory: dir.path + "/state"), logs: EventLog()).provision()
            Issue.record("accepted a world-readable claim key")
        } catch {
            #expect("\(error)" == "the private key \(cloud.pki.path("client.key")) is readable by others (mode 0644); fix: chmod 600 \(cloud.pki.path("client.key"))")
        }
    }
}

@Suite struct ProvisioningServiceErrorTests {
    func rejection(_ change: (inout ProvisioningConfig) -> Void, options: ProvisioningService.Options = .init()) async throws -> ProvisioningRejection? {
        let cloud = try await FleetProvisioningTests.Cloud.start(options: options)
        defer { cloud.stop() }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let provisioner = cloud.provisioner(try CredentialStore(directory: dir.path + "/state"), change: change, logs: EventLog())
        do {
            _ = try await provisioner.provision()
            return nil
        } catch {
            guard case .rejected(let failure) = error, case .rejected(_, let rejection) = failure else { return nil }
            return rejection
        }
    }

    @Test func anUnknownTemplateIs404() async throws {
        let rejection = try await rejection { $0.template = "noSuchTemplate" }
        #expect(rejection == ProvisioningRejection(statusCode: 404, errorCode: "ResourceNotFound",
                                                   errorMessage: "The provisioning template noSuchTemplate does not exist"))
    }

    @Test func aHookThatDeniesIs403() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let hook = dir.file("deny.sh").path
        try CredentialStore.write(Array("#!/bin/sh\ncat >/dev/null\necho '{\"allowProvisioning\": false}'\n".utf8), to: hook, mode: 0o755)
        var options = ProvisioningService.Options()
        options.preProvisioningHook = hook
        let rejection = try await rejection({ _ in }, options: options)
        #expect(rejection?.statusCode == 403 && rejection?.errorCode == "AccessDenied")
    }

    /// A hook that never answers: denied once `hookTimeout` has passed (awaited, not blocking a
    /// pool thread), and the hook's process is stopped.
    @Test func aHookThatHangsIsDeniedAndStopped() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let hook = dir.file("hang.sh").path
        let pidFile = dir.file("hook.pid").path
        try CredentialStore.write(Array("#!/bin/sh\necho $$ > \(pidFile)\nexec sleep 600\n".utf8), to: hook, mode: 0o755)
        var options = ProvisioningService.Options()
        options.preProvisioningHook = hook
        options.hookTimeout = 1
        let rejection = try await rejection({ _ in }, options: options)
        #expect(rejection?.statusCode == 403 && rejection?.errorCode == "AccessDenied")
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0, "the hook's process was stopped")
    }

    /// An expired token (lifetime 0 here) makes the device start over; it never gives up.
    @Test func anExpiredTokenStartsOver() async throws {
        var options = ProvisioningService.Options()
        options.tokenLifetime = 0
        let cloud = try await FleetProvisioningTests.Cloud.start(options: options)
        defer { cloud.stop() }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let logs = EventLog<CapturingLogHandler.Entry>()
        let provisioner = cloud.provisioner(try CredentialStore(directory: dir.path + "/state"), logs: logs)
        let provisioning = Task { try? await provisioner.provision() }
        #expect(await logs.wait(timeout: .seconds(20)) { entries in
            entries.filter { $0.message.contains("RegisterThing refused the ownership token") }.count >= 2
        })
        provisioning.cancel()
    }

    @Test func anInvalidCSRIsRefused() async throws {
        let cloud = try await FleetProvisioningTests.Cloud.start()
        defer { cloud.stop() }
        let connection = try MQTTConnection(settings: MQTTSettings(host: "localhost", port: cloud.broker.port, caFile: cloud.pki.path("ca.pem"),
                                                                   certFile: cloud.pki.path("client.pem"), keyFile: cloud.pki.path("client.key"),
                                                                   clientID: "bad-csr"), logger: CapturingLogHandler.logger(EventLog()))
        let events = EventLog<MQTTEvent>()
        let task = Task { for await event in connection.events { events.append(event) } }
        defer { task.cancel() }
        connection.start()
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        guard case .success(let id) = connection.subscribe(["$aws/certificates/create-from-csr/json/rejected"]) else { return }
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.subscribed(messageID: id, granted: [1])) })
        _ = connection.publish(topic: "$aws/certificates/create-from-csr/json",
                               payload: Array(#"{"certificateSigningRequest":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}"#.utf8))
        #expect(await events.wait(timeout: .seconds(10)) { events in
            events.contains { event in
                guard case .message(_, let payload) = event,
                      let rejection = try? JSONDecoder().decode(ProvisioningRejection.self, from: Data(payload)) else { return false }
                return rejection.statusCode == 400 && rejection.errorCode == "InvalidCSR"
            }
        })
        await connection.shutdown()
    }

    @Test func forgetClaimRemovesTheClaimPair() async throws {
        let cloud = try await FleetProvisioningTests.Cloud.start()
        defer { cloud.stop() }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // A copy of the claim pair, so the broker's own test files stay.
        let claimCert = dir.file("claim.pem").path, claimKey = dir.file("claim.key").path
        try CredentialStore.write(Array(try Data(contentsOf: URL(fileURLWithPath: cloud.pki.path("client.pem")))), to: claimCert, mode: 0o644)
        try CredentialStore.write(Array(try Data(contentsOf: URL(fileURLWithPath: cloud.pki.path("client.key")))), to: claimKey, mode: 0o600)
        _ = try await cloud.provisioner(try CredentialStore(directory: dir.path + "/state"), change: {
            $0.claimCert = claimCert
            $0.claimKey = claimKey
            $0.forgetClaim = true
        }, logs: EventLog()).provision()
        #expect(!FileManager.default.fileExists(atPath: claimCert) && !FileManager.default.fileExists(atPath: claimKey))
    }
}
