/// The tracker's jobs as `[store] dir/jobs.json` keeps them (written atomically at every step):
/// the one in hand and where it stands, and the ones that ended — so that a restart or a
/// power cut resumes the job in hand, and no job ever runs twice.
public struct JobLedger: Codable, Sendable, Equatable {
    public enum Step: String, Codable, Sendable {
        /// Fetching the file (a restart resumes where the partial file ends).
        case downloading
        /// The verified package was handed to the update unit; the next start tells.
        case installing
        /// The verified zone set is being read and applied.
        case applying
        /// trackerd restarts to renew its certificate; the next start tells.
        case rotating
    }

    /// A terminal status decided and not yet acknowledged by the Jobs service.
    public struct Outcome: Codable, Sendable, Equatable {
        /// SUCCEEDED, FAILED or REJECTED.
        public var status: String
        public var details: [String: String]

        public init(status: String, details: [String: String]) {
            self.status = status
            self.details = details
        }
    }

    public struct Active: Codable, Sendable, Equatable {
        public var jobId: String
        /// nil for a document the tracker refused (only its REJECTED status is left to send).
        public var operation: JobOperation?
        public var step: Step
        /// The trackerd version that began the job.
        public var fromVersion: String
        public var outcome: Outcome?
        /// The certificate in use when a rotate-certificate job began.
        public var fromCertificate: String?

        public init(jobId: String, operation: JobOperation?, step: Step, fromVersion: String, outcome: Outcome? = nil,
                    fromCertificate: String? = nil) {
            self.jobId = jobId
            self.operation = operation
            self.step = step
            self.fromVersion = fromVersion
            self.outcome = outcome
            self.fromCertificate = fromCertificate
        }
    }

    public struct Ended: Codable, Sendable, Equatable {
        public var jobId: String
        public var status: String

        public init(jobId: String, status: String) {
            self.jobId = jobId
            self.status = status
        }
    }

    public var active: Active?
    /// The most recent first; the oldest are forgotten past `keepEnded`.
    public var ended: [Ended] = []
    public static let keepEnded = 50

    public init(active: Active? = nil, ended: [Ended] = []) {
        self.active = active
        self.ended = ended
    }

    mutating func end(_ jobId: String, status: String) {
        active = nil
        ended.removeAll { $0.jobId == jobId }
        ended.insert(Ended(jobId: jobId, status: status), at: 0)
        if ended.count > Self.keepEnded { ended.removeLast(ended.count - Self.keepEnded) }
    }
}
