/// Which of the device's cloud services a subscription is for: each gets its own SUBSCRIBE
/// (AWS IoT Core takes at most 8 topics in one), and its SUBACK starts that service's work.
public enum SubscriptionPurpose: Sendable, Equatable {
    /// The `trackerd` named shadow.
    case shadow
    /// AWS IoT Jobs.
    case jobs
}
