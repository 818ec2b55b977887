import Testing
@testable import TrackerCore

/// The shadow's desired state, validated as the configuration file is: same checks, same
/// words, whole or not at all.
@Suite struct RemoteSettingsTests {
    func desired(_ text: String) -> JSONValue { JSONValue.parse(Array(text.utf8)) ?? .null }

    @Test func aValidDocumentAppliesOverTheFile() throws {
        let settings = try RemoteSettings.validate(desired(
            #"{"report":{"moving_interval_s":30,"heading_change_deg":20},"log_level":"debug","alerts_topic":"fleet/alerts"}"#)).get()
        var file = TrackerConfig()
        file.report.stopSpeed = 2
        file.mqtt.endpoint = "broker.example"
        let config = settings.applied(to: file)
        #expect(config.report.movingInterval == .seconds(30) && config.report.headingChange == 20)
        #expect(config.report.stopSpeed == 1.0, "the shadow's [report] replaces the file's as a whole")
        #expect(config.mqtt.alertsTopic == "fleet/alerts" && config.mqtt.endpoint == "broker.example")
        #expect(settings.logLevel == "debug")
    }

    /// Every problem, with check-config's words, and nothing applied.
    @Test func anInvalidDocumentIsRefusedWhole() {
        let result = RemoteSettings.validate(desired(
            #"{"report":{"moving_interval_s":0,"policy":"sometimes"},"log_level":"loud","status_topic":"a/#","endpoint":"x"}"#))
        guard case .failure(let invalid) = result else { Issue.record("accepted"); return }
        #expect(invalid.problems.map(\.path).sorted() == ["endpoint", "log_level", "report.moving_interval_s", "report.policy", "status_topic"])
        #expect(invalid.problems.contains(RemoteSettings.Problem(path: "report.moving_interval_s", problem: "0.0 is out of range (1.0 to 86400.0)")))
        #expect(invalid.problems.first { $0.path == "endpoint" }?.problem.hasPrefix("unknown key; the shadow may set report") == true)
        #expect(invalid.problems.first?.json["path"] != nil)
    }
}
