/// Mosquitto's acl_file for localcloud, with the AWS policies of the original design as
/// topic rules: the claim identity reaches only the provisioning topics, a certificate gains
/// the telemetry and event topics only once RegisterThing accepted it, and localcloud's own
/// client reads everything it serves. (`#` does not match `$aws/...`: each is listed.)
public enum BrokerACL {
    public static let serviceIdentity = "localcloud"
    public static let claimIdentity = "claim"

    /// CreateCertificateFromCsr and RegisterThing: the claim's at first boot, and each thing's
    /// own when it rotates its certificate.
    static let certificateRequests = """
        topic write $aws/certificates/create-from-csr/json
        topic read $aws/certificates/create-from-csr/json/accepted
        topic read $aws/certificates/create-from-csr/json/rejected
        topic write $aws/provisioning-templates/+/provision/json
        topic read $aws/provisioning-templates/+/provision/json/accepted
        topic read $aws/provisioning-templates/+/provision/json/rejected
        """

    public static func render(registered: [ThingRegistry.Thing], telemetryTopic: String = "gpsTopic") -> String {
        var text = """
        # Written by localcloud; rewritten and reloaded (SIGHUP) at every registration.
        user \(serviceIdentity)
        topic readwrite $aws/certificates/create/json
        topic readwrite $aws/certificates/create/json/#
        topic readwrite $aws/certificates/create-from-csr/json
        topic readwrite $aws/certificates/create-from-csr/json/#
        topic readwrite $aws/provisioning-templates/#
        topic read \(telemetryTopic)
        topic read trackers/#
        topic readwrite $aws/things/#

        user \(claimIdentity)
        topic write $aws/certificates/create/json
        topic read $aws/certificates/create/json/accepted
        topic read $aws/certificates/create/json/rejected
        \(certificateRequests)

        """
        for thing in registered {
            text += """
            # thing \(thing.thingName), certificate \(thing.certificateId)
            user \(thing.identity)
            topic write \(telemetryTopic)
            topic readwrite trackers/\(thing.thingName)/#
            topic write $aws/things/\(thing.thingName)/shadow/name/+/get
            topic write $aws/things/\(thing.thingName)/shadow/name/+/update
            topic read $aws/things/\(thing.thingName)/shadow/name/+/get/+
            topic read $aws/things/\(thing.thingName)/shadow/name/+/update/+
            \(certificateRequests)
            topic write $aws/things/\(thing.thingName)/jobs/start-next
            topic write $aws/things/\(thing.thingName)/jobs/get
            topic write $aws/things/\(thing.thingName)/jobs/+/update
            topic write $aws/things/\(thing.thingName)/jobs/+/get
            topic read $aws/things/\(thing.thingName)/jobs/notify
            topic read $aws/things/\(thing.thingName)/jobs/notify-next
            topic read $aws/things/\(thing.thingName)/jobs/start-next/+
            topic read $aws/things/\(thing.thingName)/jobs/get/+
            topic read $aws/things/\(thing.thingName)/jobs/+/update/+
            topic read $aws/things/\(thing.thingName)/jobs/+/get/+

            """
        }
        return text
    }
}
