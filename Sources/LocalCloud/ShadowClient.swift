import Foundation
import Logging
import TrackerCore
import TrackerMQTT

/// `localcloud shadow DIR THING`: one request to a running localcloud's shadow service, as the
/// operator's side (localcloud's own identity), with AWS's topics: `get`, or `update` with a
/// desired state. The answer is the accepted document or the rejection.
public struct ShadowClient: Sendable {
    public let directory: LocalCloudDirectory
    public let port: Int
    public let logger: Logger

    public init(directory: LocalCloudDirectory, port: Int, logger: Logger) {
        self.directory = directory
        self.port = port
        self.logger = logger
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreachable(String)
        case noAnswer

        public var description: String {
            switch self {
            case .unreachable(let reason): "localcloud is not reachable: \(reason)"
            case .noAnswer: "the shadow service did not answer within 10 s (is `localcloud serve` running?)"
            }
        }
    }

    /// `desired`: nil for `get`. Returns the reply's topic suffix (`get/accepted`, ...) and payload.
    public func request(thing: String, name: String = "trackerd", desired: JSONValue?) async throws -> (suffix: String, payload: [UInt8]) {
        let base = "$aws/things/\(thing)/shadow/name/\(name)/"
        let operation = desired == nil ? "get" : "update"
        let connection = try OperatorConnection.make(directory, port: port, name: "shadow", logger: logger)
        let token = UUID().uuidString
        var fields: [String: JSONValue] = ["clientToken": .string(token)]
        if let desired { fields["state"] = .object(["desired": desired]) }
        let request = JSONValue.object(fields).bytes
        let answer = await OperatorConnection.exchange(connection, deadline: .seconds(10)) { connection -> (String, [UInt8])? in
            var subscription: Int32?
            for await event in connection.events {
                switch event {
                case .connected:
                    if case .success(let id) = connection.subscribe([base + operation + "/accepted", base + operation + "/rejected"]) {
                        subscription = id
                    }
                case .subscribed(let id, _) where id == subscription:
                    _ = connection.publish(topic: base + operation, payload: request)
                case .message(let topic, let payload) where JSONValue.parse(payload)?["clientToken"] == .string(token):
                    return (String(topic.dropFirst(base.count)), payload)
                default:
                    break
                }
            }
            return nil
        }
        guard let answer else { throw Failure.noAnswer }
        return answer
    }
}
