/// Waiting for a condition that no event announces — a file another process appends to — by
/// checking it often, up to a deadline.
public enum Condition {
    /// True as soon as `holds` is; false if it still is not at the deadline.
    public static func wait(timeout: Duration, checkingEvery interval: Duration = .milliseconds(50),
                            _ holds: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if holds() { return true }
            if clock.now >= deadline { return false }
            try? await clock.sleep(for: interval)
        }
    }
}
