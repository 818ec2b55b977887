import Foundation

/// The broker's ACL: the AWS policies of the original design — the claim identity reaches only
/// the provisioning topics, a certificate gains a thing's topics only once RegisterThing
/// accepted it, localcloud's own client reaches what it serves — decided by localcloud's
/// Mosquitto plugin (Sources/CBrokerACL, which holds the topic rules) from a table of
/// certificate identities and their things.
///
/// A registration appends one line to that table and the plugin reads it when it first meets
/// the identity: no rewritten ACL file and no broker reload, so the thousandth device registers
/// as fast as the first. (Mosquitto's own acl_file would list every thing, rewritten and
/// reloaded at every registration: O(N) per device.) The plugin also delivers each
/// fleet-provisioning reply to the client that asked only, as AWS does (`replyLine`).
public enum BrokerACL {
    public static let serviceIdentity = "localcloud"
    public static let claimIdentity = "claim"

    /// The plugin, built by this package next to the localcloud executable.
    public static var pluginPath: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("liblocalcloud-broker-acl.so").path
    }

    /// One line of the table. Identities and thing names have no spaces or line ends (the CA
    /// makes the one, the template's ThingName rules the other); a line that would is refused.
    public static func line(identity: String, thing: String) -> String? {
        let bad = { (text: String) in text.isEmpty || text.contains { $0 == " " || $0.isNewline } }
        return bad(identity) || bad(thing) ? nil : identity + " " + thing + "\n"
    }

    /// The whole table, from the registry (at start).
    public static func table(_ things: [ThingRegistry.Thing]) -> String {
        things.compactMap { line(identity: $0.identity, thing: $0.thingName) }.joined()
    }

    /// The line that routes a fleet-provisioning reply to the client that asked: AWS answers the
    /// requesting connection alone, Mosquitto would give every subscriber of the shared topic
    /// every device's certificate. The key is FNV-1a 64 of the payload, as the plugin computes it.
    public static func replyLine(payload: [UInt8], clientID: String) -> String? {
        guard !clientID.isEmpty, !clientID.contains(where: \.isNewline) else { return nil }
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in payload { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + " " + clientID + "\n"
    }

    /// mosquitto.conf's lines that load the plugin.
    public static func configuration(plugin: String, identities: String, replies: String, telemetryTopic: String = "gpsTopic") -> String {
        """
        plugin \(plugin)
        plugin_opt_identities \(identities)
        plugin_opt_replies \(replies)
        plugin_opt_telemetry_topic \(telemetryTopic)
        plugin_opt_service \(serviceIdentity)
        plugin_opt_claim \(claimIdentity)

        """
    }
}
