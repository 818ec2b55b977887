import Foundation
import Testing
@testable import LocalCloud

@Suite struct ProvisioningTemplateTests {
    /// The original design's template, as written for AWS.
    static let original = Data("""
    {
      "Parameters": {
        "SerialNumber": {"Type": "String"},
        "Site": {"Type": "String", "Default": "depot-1"},
        "AWS::IoT::Certificate::Id": {"Type": "String"}
      },
      "Resources": {
        "certificate": {"Type": "AWS::IoT::Certificate",
                        "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "Active"}},
        "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "trackerDevicePolicy"}},
        "thing": {"Type": "AWS::IoT::Thing",
                  "Properties": {"ThingName": {"Fn::Join": ["", ["tracker_", {"Ref": "SerialNumber"}]]},
                                 "AttributePayload": {"serial": {"Ref": "SerialNumber"}, "site": {"Ref": "Site"}, "version": "v1"}}}
      },
      "DeviceConfiguration": {"site": {"Ref": "Site"}, "reportIntervalSeconds": 1}
    }
    """.utf8)

    @Test func evaluatesRefJoinDefaultsAndDeviceConfiguration() throws {
        let template = try ProvisioningTemplate(name: "iotDeviceTemplateName", json: Self.original)
        let outcome = try template.evaluate(parameters: ["SerialNumber": "10000000abcd"], certificateId: "c0ffee")
        #expect(outcome.thingName == "tracker_10000000abcd")
        #expect(outcome.attributes == ["serial": "10000000abcd", "site": "depot-1", "version": "v1"])
        #expect(outcome.policyName == "trackerDevicePolicy")
        #expect(outcome.deviceConfiguration == ["site": "depot-1", "reportIntervalSeconds": "1"])
        let other = try template.evaluate(parameters: ["SerialNumber": "2", "Site": "yard"], certificateId: "c")
        #expect(other.attributes["site"] == "yard")
    }

    @Test func aMissingParameterIsNamed() throws {
        let template = try ProvisioningTemplate(name: "t", json: Self.original)
        #expect(throws: ProvisioningTemplate.TemplateError.missingParameter("SerialNumber")) {
            try template.evaluate(parameters: [:], certificateId: "c")
        }
    }

    @Test func malformedTemplatesAreRefused() {
        #expect(throws: ProvisioningTemplate.TemplateError.invalid("t is not a JSON object")) {
            try ProvisioningTemplate(name: "t", json: Data("[1]".utf8))
        }
        #expect(throws: ProvisioningTemplate.TemplateError.invalid("t has no AWS::IoT::Thing resource")) {
            try ProvisioningTemplate(name: "t", json: Data(#"{"Resources":{"p":{"Type":"AWS::IoT::Policy"}}}"#.utf8))
        }
    }
}
