import Foundation
import Testing
import TestSupport
@testable import TrackerCore

/// The reporting rules of a fleet tracker, fix by fix, on the fixes' own clock.
@Suite struct MotionReporterTests {
    static let start: Int64 = 1_583_136_200_000

    /// A drive sampled at 1 Hz: each second a speed (m/s) and course (degrees), positions
    /// integrated exactly (flat earth, fine at these scales), optional position jitter.
    struct Drive {
        var fixes: [Fix] = []
        var latitude = 10.05, longitude = 10.05
        var second: Int64 = 0
        var truthLength = 0.0
        var random = SeededGenerator(seed: 7)

        mutating func go(_ seconds: Int, speed: Double, course: Double, jitter: Double = 0, gap: Bool = false) {
            for _ in 0..<seconds {
                let radians = course * .pi / 180
                latitude += speed * cos(radians) / 111_320
                longitude += speed * sin(radians) / (111_320 * cos(latitude * .pi / 180))
                truthLength += speed
                second += 1
                if gap { continue }
                let noise = { (metres: Double, random: inout SeededGenerator) -> Double in
                    metres == 0 ? 0 : Double.random(in: -metres...metres, using: &random)
                }
                let dLat = noise(jitter, &random) / 111_320, dLon = noise(jitter, &random) / 111_320
                fixes.append(Fix(time: UTCTimestamp(millisecondsSinceEpoch: MotionReporterTests.start + second * 1000), mode: .threeD,
                                 latitude: latitude + dLat, longitude: longitude + dLon, speed: speed, track: course))
            }
        }
    }

    func run(_ drive: Drive, _ policy: ReportPolicy = ReportPolicy(), limit: (Double, String?)? = nil)
        -> (reporter: MotionReporter, published: [Fix], events: [MotionEvent]) {
        var reporter = MotionReporter(policy: policy)
        var published: [Fix] = []
        var events: [MotionEvent] = []
        for (n, fix) in drive.fixes.enumerated() {
            let decision = reporter.report(fix, forced: n == 0, limit: limit.map { (speed: $0.0, zone: $0.1) })
            published += decision.publish
            events += decision.events
        }
        return (reporter, published, events)
    }

    func second(_ fix: Fix?) -> Int64 { ((fix?.time?.millisecondsSinceEpoch ?? 0) - Self.start) / 1000 }

    /// Two hours parked with 5 m of drift and a jittery 0.4 m/s: the first fix and a heartbeat
    /// every 30 minutes, no trip, no distance.
    @Test func aParkedVanSaysAlmostNothing() {
        var drive = Drive()
        drive.go(7200, speed: 0.4, course: 123, jitter: 5)
        let (reporter, published, events) = run(drive)
        #expect(published.map(second) == [1, 1801, 3601, 5401])
        #expect(events.isEmpty && reporter.odometer == 0 && reporter.motion == .stopped)
    }

    /// Ten minutes at 15 m/s in a straight line: a trip starts at the first fix, a fix a minute,
    /// the odometer right to a metre despite 3 m of position noise.
    @Test func aStraightDriveIsAFixAMinute() {
        var drive = Drive()
        drive.go(600, speed: 15, course: 90, jitter: 3)
        let (reporter, published, events) = run(drive)
        let minutes: [Int64] = [1, 61, 121, 181, 241, 301, 361, 421, 481, 541]
        #expect(published.map(second) == minutes)
        #expect(events.map(\.kind) == [.tripStart] && events.first?.time == drive.fixes[0].time)
        #expect(abs(reporter.odometer - 15 * 599) < 1, "\(reporter.odometer)")
    }

    /// A right-angle turn publishes the first fix whose course differs by 30 degrees or more.
    @Test func aTurnIsPublished() {
        var drive = Drive()
        drive.go(20, speed: 15, course: 90)
        drive.go(3, speed: 15, course: 110)
        drive.go(20, speed: 15, course: 180)
        let (_, published, _) = run(drive)
        #expect(published.map(second) == [1, 24], "the first fix at 180 degrees (20 from the last published, then 90)")
    }

    /// Five minutes moving, then stopped: after stop_after_s the fix where it stopped is
    /// published with a TripEnd (distance, duration, top speed); a heartbeat later; the first
    /// moving fix publishes and starts a new trip. A traffic light of 60 s is not a stop.
    @Test func tripsEndWhereTheVehicleStopped() {
        var drive = Drive()
        drive.go(150, speed: 15, course: 0)
        drive.go(60, speed: 0, course: 0)
        drive.go(150, speed: 20, course: 0)
        drive.go(2000, speed: 0.2, course: 0, jitter: 4)
        drive.go(10, speed: 8, course: 0)
        let (reporter, published, events) = run(drive)
        #expect(events.map(\.kind) == [.tripStart, .tripEnd, .tripStart])
        let end = events[1]
        #expect(end.time == drive.fixes[360].time, "the first fix of the stop: second 361")
        #expect(abs((end.distance ?? 0) - (150 * 15 + 150 * 20)) < 20, "\(end.distance ?? 0)")
        #expect(end.duration == 360 && end.maxSpeed == 20)
        #expect(published.contains { second($0) == 361 }, "the stop fix is published")
        #expect(published.contains { second($0) == 361 + 1800 }, "one heartbeat while stopped")
        #expect(second(published.last) == 2361, "the first moving fix")
        #expect(events[2].time == drive.fixes[2360].time)
        #expect(published.filter { (362..<2161).contains(second($0)) }.isEmpty, "nothing while parked but the heartbeat")
        #expect(reporter.motion == .moving)
    }

    /// Over the limit for 15 s: OverspeedStart (time of the first fix over), then OverspeedEnd at
    /// the first fix at or below it; a 5 s spike is nothing; a zone's limit names the zone.
    @Test func overspeedIsAnEventAfterItsGrace() {
        var drive = Drive()
        drive.go(30, speed: 18, course: 0)
        drive.go(5, speed: 25, course: 0)
        drive.go(30, speed: 18, course: 0)
        drive.go(15, speed: 25, course: 0)
        drive.go(10, speed: 19, course: 0)
        let (_, _, events) = run(drive, limit: (20, "school"))
        let overspeeds = events.filter { $0.kind != .tripStart }
        #expect(overspeeds.map(\.kind) == [.overspeedStart, .overspeedEnd])
        #expect(overspeeds.first?.time == drive.fixes[65].time && overspeeds.first?.speed == 25 && overspeeds.first?.maxSpeed == 20)
        #expect(overspeeds.last?.time == drive.fixes[80].time && overspeeds.last?.speed == 19)
        #expect(overspeeds.allSatisfy { $0.zone == "school" })
        let first = drive.fixes[65]
        let time = first.time?.iso8601 ?? ""
        let lat = JSONNumber.fixed(first.latitude ?? 0, 7), lng = JSONNumber.fixed(first.longitude ?? 0, 7)
        let expected = #"{"deviceId":"1","event":"OverspeedStart","time":""# + time + #"","lat":"# + lat + #","lng":"# + lng
            + #","speed_mps":25,"max_speed_mps":20,"zone":"school"}"#
        #expect(overspeeds.first?.json(deviceID: "1") == expected)
    }

    /// Through a 30 s tunnel the odometer adds the straight line between the fixes either side.
    @Test func aTunnelAddsTheStraightLine() {
        var drive = Drive()
        drive.go(60, speed: 10, course: 45)
        drive.go(30, speed: 10, course: 45, gap: true)
        drive.go(60, speed: 10, course: 45)
        let (reporter, _, _) = run(drive)
        #expect(abs(reporter.odometer - 10 * 149) < 2, "\(reporter.odometer)")
    }

    @Test func everyFixPublishesEveryFix() {
        var drive = Drive()
        drive.go(100, speed: 0, course: 0)
        var policy = ReportPolicy()
        policy.mode = .everyFix
        #expect(run(drive, policy).published.count == 100)
    }

    /// min_distance_m publishes after that many metres, between the minute's fixes.
    @Test func aMinimumDistancePublishesOnTheWay() {
        var drive = Drive()
        drive.go(60, speed: 10, course: 0)
        var policy = ReportPolicy()
        policy.minDistance = 195
        #expect(run(drive, policy).published.map(second) == [1, 21, 41])
    }
}

extension MotionReporterTests {
    /// Through the planner: inside a zone with `max_speed_mps` its limit applies and the event
    /// names the zone, on the alerts topic after the fix.
    @Test func aZoneLimitNamesTheZone() {
        var config = TrackerConfig()
        config.report.overspeedAfter = .seconds(2)
        let school = Zone(name: "school", shape: .circle(center: GeoPoint(latitude: 10.05, longitude: 10.05), radius: 5_000), maxSpeed: 8)
        var planner = PublicationPlanner(config: config, deviceID: "1", thingName: "t", detector: GeofenceDetector(zones: [school]))
        var drive = Drive()
        drive.go(10, speed: 12, course: 0)
        let messages = drive.fixes.flatMap { planner.plan($0, afterLoss: false) }
        let overspeed = messages.first { $0.motion?.kind == .overspeedStart }
        #expect(overspeed?.topic == "trackers/t/alerts" && overspeed?.motion?.zone == "school" && overspeed?.motion?.maxSpeed == 8)
    }
}

