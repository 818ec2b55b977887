import TrackerCore

/// What each kind of tracker publishes from the broker going away on: trackerd's own
/// `PublicationPlanner` (the reporting policy with its turns, stops and heartbeats, and the
/// trip events; no zones) fed a fix a second of a `FleetDrive`. Each planner starts before
/// second 0, so the outage finds it as a running tracker would be rather than at a first fix:
/// a driving one a whole round earlier (mid-trip or at a stop), a parked one at its last
/// heartbeat, which falls anywhere in the stopped interval. Trackers with the same drive publish the same
/// messages, so a drive is planned once, lazily as far as the run needs, and shared: a million
/// trackers make 128 planners, not a million.
struct FleetTraffic {
    struct Message {
        var second: Int32
        var topic: String
        var payload: [UInt8]
    }

    private let config: TrackerConfig
    private var planners: [PublicationPlanner?]
    /// The next second each drive's planner has not been fed yet.
    private var planned: [Int]
    /// Each drive's messages from second 0 on, in order.
    private(set) var messages: [[Message]]

    init(config: TrackerConfig) {
        self.config = config
        planners = Array(repeating: nil, count: 2 * FleetDrive.phases)
        planned = Array(repeating: 0, count: 2 * FleetDrive.phases)
        messages = Array(repeating: [], count: 2 * FleetDrive.phases)
    }

    static func key(_ drive: FleetDrive) -> Int { (drive.driving ? FleetDrive.phases : 0) + drive.phase }

    static func drive(_ key: Int) -> FleetDrive {
        FleetDrive(driving: key >= FleetDrive.phases, phase: key % FleetDrive.phases)
    }

    /// Plans drive `key` through `second` (inclusive).
    mutating func plan(_ key: Int, through second: Int) {
        let drive = Self.drive(key)
        if planners[key] == nil {
            planners[key] = PublicationPlanner(config: config, deviceID: "sim", thingName: "sim", detector: GeofenceDetector(zones: []))
            let spread = Int(config.report.stoppedInterval.seconds) * drive.phase / FleetDrive.phases
            planned[key] = drive.driving ? -FleetDrive.roundSeconds : -spread - 1
        }
        guard planned[key] <= second, var planner = planners[key] else { return }
        planners[key] = nil
        while planned[key] <= second {
            let at = planned[key]
            let out = planner.plan(drive.fix(at: at), afterLoss: false)
            if at >= 0 {
                for message in out {
                    messages[key].append(Message(second: Int32(at), topic: message.topic, payload: Array(message.payload.utf8)))
                }
            }
            planned[key] += 1
        }
        planners[key] = planner
    }
}
