import Foundation
import Logging
import Synchronization
import TrackerMQTT

/// `localcloud serve --aws-limits`: every device publish measured against AWS IoT Core's
/// limits (`AWSLimitMeter`), a warning naming the client and the limit for each breach, and with
/// `strict` the offender disconnected — as AWS does to a second connection with the same client
/// id, which is how it is done here — so that a test's violation fails loudly.
public final class AWSLimitWatch: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case warn, strict
    }

    public let mode: Mode
    private let meter = Mutex(AWSLimitMeter())
    private let kicked = Mutex<[String: Date]>([:])
    private let logger: Logger
    private let kick: @Sendable (String) async -> Void

    /// `kick`: disconnects a client (localcloud connects with its client id).
    public init(mode: Mode, logger: Logger, kick: @escaping @Sendable (String) async -> Void) {
        self.mode = mode
        self.logger = logger
        self.kick = kick
    }

    /// A line of Mosquitto's log other than a publish: a new connection starts its count afresh.
    public func observe(line: String) {
        if case .connected(let client)? = MosquittoConnectionLine(line) {
            meter.withLock { $0.connected(client) }
        }
    }

    /// One publish from Mosquitto's log; localcloud's own clients are not measured.
    public func observe(_ publish: MosquittoPublishLine) {
        guard !publish.clientID.hasPrefix("localcloud") else { return }
        let violations = meter.withLock { meter in
            defer { if let second = publish.second, second % 60 == 0 { meter.forget(before: second) } }
            return meter.record(publish)
        }
        for violation in violations {
            logger.warning("aws-limits: \(violation)", metadata: ["client": "\(violation.clientID)"])
            guard mode == .strict else { continue }
            // Once per client in 5 s: a reconnecting offender is not kicked in a loop meanwhile.
            let due = kicked.withLock { kicked in
                if let last = kicked[violation.clientID], Date().timeIntervalSince(last) < 5 { return false }
                kicked[violation.clientID] = Date()
                return true
            }
            if due {
                logger.warning("aws-limits strict: disconnecting \(violation.clientID)")
                let kick = self.kick, client = violation.clientID
                Task { await kick(client) }
            }
        }
    }
}
