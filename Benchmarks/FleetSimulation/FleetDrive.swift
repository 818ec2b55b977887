import Foundation
import TrackerCore

/// What a simulated tracker's receiver says, second by second: the fixes `FleetTraffic` hands
/// to trackerd's own `PublicationPlanner`, so that what queues up offline is what the reporting
/// policy would really keep.
///
/// A driving tracker does city rounds: two squares of 1,680 m blocks at 50 km/h (a 90° turn
/// every 2 minutes, 16 minutes in all), then 4 minutes at a stop, over and over. A parked one
/// stands still. `phase` shifts a tracker's place in its round (and a parked one's last
/// heartbeat), so that a fleet does not turn, stop and report in step.
public struct FleetDrive: Sendable, Equatable {
    public var driving: Bool
    public var phase: Int

    /// Trackers of one kind share a drive only if they share a phase: this many phases each.
    public static let phases = 64
    static let speed = 14.0
    static let legSeconds = 120
    static let legs = 8
    static let stopSeconds = 240
    /// The legs go north, east, south, west: four make a square, back where it began.
    static let headings = [0.0, 90, 180, 270]
    static var roundSeconds: Int { legSeconds * legs + stopSeconds }
    /// Midnight UTC of 2026-11-30: the fixes' own clock, second 0 being the broker going away.
    static let epochMilliseconds: Int64 = 1_795_996_800_000
    static let origin = (latitude: 52.52, longitude: 13.40)

    public init(driving: Bool, phase: Int) {
        self.driving = driving
        self.phase = phase
    }

    /// The drive of tracker `index` when `share` of the fleet drives: drivers spread evenly
    /// through the fleet, phases in turn.
    public static func of(tracker index: Int, drivingShare share: Double) -> FleetDrive {
        let driving = Double(index % 1000) < share * 1000
        return FleetDrive(driving: driving, phase: (index / 1000 + index) % phases)
    }

    /// The fix at `second` (negative: before the broker went away).
    public func fix(at second: Int) -> Fix {
        let time = UTCTimestamp(millisecondsSinceEpoch: Self.epochMilliseconds + Int64(second) * 1000)
        guard driving else {
            return Fix(time: time, mode: .threeD, latitude: Self.origin.latitude, longitude: Self.origin.longitude, speed: 0)
        }
        let round = Self.roundSeconds
        let offset = phase * round / Self.phases
        let inRound = ((second + offset) % round + round) % round
        let moving = inRound < Self.legSeconds * Self.legs
        let driven = min(inRound, Self.legSeconds * Self.legs)
        // The legs of this square done so far, then the part of the current one.
        let leg = min(driven / Self.legSeconds, Self.legs - 1)
        var north = 0.0, east = 0.0
        for done in leg / 4 * 4...leg {
            let metres = Self.speed * Double(done < leg ? Self.legSeconds : driven - leg * Self.legSeconds)
            let radians = Self.headings[done % 4] * .pi / 180
            north += metres * cos(radians)
            east += metres * sin(radians)
        }
        let heading = Self.headings[leg % 4]
        let latitude = Self.origin.latitude + north / 111_320
        let longitude = Self.origin.longitude + east / (111_320 * cos(Self.origin.latitude * .pi / 180))
        return Fix(time: time, mode: .threeD, latitude: latitude, longitude: longitude,
                   speed: moving ? Self.speed : 0, track: moving ? heading : nil)
    }
}
