import Testing
@testable import TrackerCore

/// When a certificate is due for renewal, on the boundaries, and what an unset clock means.
@Suite struct CertificateLifetimeTests {
    let lifetime = CertificateLifetime(notBefore: 1_000_000, notAfter: 1_000_000 + 10 * 86_400)

    @Test func dueExactlyRotateBeforeDaysBeforeTheEnd() {
        let end = lifetime.notAfter
        #expect(lifetime.renewal(now: end - 7 * 86_400 - 1, beforeDays: 7) == .notDue(daysLeft: Double(7 * 86_400 + 1) / 86_400))
        #expect(lifetime.renewal(now: end - 7 * 86_400, beforeDays: 7) == .due(daysLeft: 7))
        #expect(lifetime.renewal(now: end - 1, beforeDays: 7) == .due(daysLeft: 1.0 / 86_400))
        #expect(lifetime.renewal(now: end, beforeDays: 7) == .expired, "the broker refuses it from notAfter on")
        #expect(lifetime.renewal(now: end - 60, beforeDays: 0) == .notDue(daysLeft: 60.0 / 86_400), "0: only a job renews")
    }

    @Test func aClockBeforeTheCertificateDecidesNothing() {
        // A Raspberry Pi without its RTC starts in 1970 until NTP or GPS sets the time.
        #expect(lifetime.renewal(now: 0, beforeDays: 7) == .clockNotSet)
        #expect(lifetime.renewal(now: lifetime.notBefore, beforeDays: 30) == .due(daysLeft: 10), "a 10-day certificate is due at once with 30")
    }
}
