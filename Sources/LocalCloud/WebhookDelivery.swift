import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import TrackerCore

/// The part SNS played for geofence events: each event is POSTed as JSON to every configured
/// webhook, retried with backoff until it is accepted (2xx) or `attempts` run out.
public struct WebhookDelivery: Sendable {
    public let urls: [URL]
    public let attempts: Int
    public let backoff: Backoff
    private let logger: Logger

    public init(urls: [URL], attempts: Int = 6, backoff: Backoff = Backoff(base: .milliseconds(500), cap: .seconds(30)), logger: Logger) {
        self.urls = urls
        self.attempts = attempts
        self.backoff = backoff
        self.logger = logger
    }

    /// Delivers `body` to every webhook, each in its own task.
    public func deliver(_ body: Data) {
        for url in urls {
            Task { await post(body, to: url) }
        }
    }

    func post(_ body: Data, to url: URL) async {
        var backoff = self.backoff
        for attempt in 1...attempts {
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
            request.timeoutInterval = 10
            let outcome: String
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if (200..<300).contains(status) {
                    logger.info("webhook \(url.absoluteString) accepted the event (attempt \(attempt))")
                    return
                }
                outcome = "HTTP \(status)"
            } catch {
                outcome = "\(error.localizedDescription)"
            }
            guard attempt < attempts else {
                logger.error("webhook \(url.absoluteString) failed \(attempts) times (\(outcome)); the event is dropped for it")
                return
            }
            let delay = backoff.nextDelay()
            logger.warning("webhook \(url.absoluteString): \(outcome); retrying in \(JSONNumber.fixed(delay.seconds, 2)) s")
            try? await Task.sleep(for: delay)
        }
    }
}
