/// A certificate's validity, and when it is due for renewal: `rotate_before_days` before it
/// expires. A clock that was never set (a Raspberry Pi without its RTC reads 1970) makes no
/// certificate look due, and one already expired is not renewable over its own connection.
public struct CertificateLifetime: Sendable, Equatable {
    /// Seconds since 1970.
    public let notBefore: Int64
    public let notAfter: Int64

    public init(notBefore: Int64, notAfter: Int64) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    public enum Renewal: Sendable, Equatable {
        case notDue(daysLeft: Double)
        case due(daysLeft: Double)
        /// Past notAfter: the broker refuses it, so only provisioning again can help.
        case expired
        /// The clock reads before notBefore: time is not set yet, nothing can be decided.
        case clockNotSet
    }

    public func renewal(now: Int64, beforeDays days: Int) -> Renewal {
        if now < notBefore { return .clockNotSet }
        if now >= notAfter { return .expired }
        let left = Double(notAfter - now) / 86_400
        return days > 0 && notAfter - now <= Int64(days) * 86_400 ? .due(daysLeft: left) : .notDue(daysLeft: left)
    }
}
