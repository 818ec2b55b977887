/// What trackerd publishes for each fix, in order: the fixes the reporting policy chose (a stop
/// found late first), the geofence events the fix caused, then its trip and overspeed events.
/// `trackerd run` and `trackerd simulate` both use it, so a simulation shows exactly what the
/// daemon would send.
public struct PublicationPlanner: Sendable {
    public struct Message: Sendable, Equatable {
        public var topic: String
        public var payload: String
        /// Set for a geofence event (the daemon logs those).
        public var event: GeofenceEvent?
        /// Set for a trip or overspeed event (logged too).
        public var motion: MotionEvent?

        public init(topic: String, payload: String, event: GeofenceEvent? = nil, motion: MotionEvent? = nil) {
            self.topic = topic
            self.payload = payload
            self.event = event
            self.motion = motion
        }
    }

    public let deviceID: String
    public let format: PayloadFormat
    public let telemetryTopic: String
    public private(set) var eventsTopic: String
    public private(set) var alertsTopic: String
    public private(set) var reporter: MotionReporter
    public private(set) var detector: GeofenceDetector
    /// The zones with a speed limit (usually none), so a fix does not walk every zone for it.
    private var limitedZones: [(name: String, maxSpeed: Double)]

    public init(deviceID: String, format: PayloadFormat, telemetryTopic: String, eventsTopic: String, alertsTopic: String,
                reporter: MotionReporter, detector: GeofenceDetector) {
        self.deviceID = deviceID
        self.format = format
        self.telemetryTopic = telemetryTopic
        self.eventsTopic = eventsTopic
        self.alertsTopic = alertsTopic
        self.reporter = reporter
        self.detector = detector
        limitedZones = detector.zones.compactMap { zone in zone.maxSpeed.map { (zone.name, $0) } }
    }

    /// The planner a configuration describes: its payload format, topics (`{thingName}` filled
    /// in) and reporting policy; `odometer`: the metres kept from earlier runs.
    public init(config: TrackerConfig, deviceID: String, thingName: String, detector: GeofenceDetector, odometer: Double = 0) {
        self.init(deviceID: deviceID, format: config.payload.format, telemetryTopic: config.mqtt.topic,
                  eventsTopic: config.mqtt.eventsTopic.replacing("{thingName}", with: thingName),
                  alertsTopic: config.mqtt.alertsTopic.replacing("{thingName}", with: thingName),
                  reporter: MotionReporter(policy: config.report, odometer: odometer), detector: detector)
    }

    public var odometer: Double { reporter.odometer }

    /// New settings from the shadow, without a restart: the reporting policy, the topics and the
    /// zones change; the motion state and odometer carry on, and a zone whose definition is
    /// unchanged keeps its state (as across a restart) while a changed or new one starts afresh.
    /// `quietStart`: a new zone's first OutOfBoundary is not announced (a job's large zone set).
    public mutating func reconfigure(config: TrackerConfig, thingName: String, zones: [Zone], quietStart: Bool = false) {
        eventsTopic = config.mqtt.eventsTopic.replacing("{thingName}", with: thingName)
        alertsTopic = config.mqtt.alertsTopic.replacing("{thingName}", with: thingName)
        reporter.policy = config.report
        if zones != detector.zones {
            detector = GeofenceDetector(zones: zones, restored: detector.saved, lastTime: detector.lastTime)
        }
        detector.announcesInitialOutside = !quietStart
        limitedZones = detector.zones.compactMap { zone in zone.maxSpeed.map { (zone.name, $0) } }
    }

    /// `afterLoss`: the first fix after a loss of fix (always published).
    public mutating func plan(_ fix: Fix, afterLoss: Bool) -> [Message] {
        let zoneEvents = detector.evaluate(fix)
        let decision = reporter.report(fix, forced: afterLoss || !zoneEvents.isEmpty, limit: speedLimit())
        var out: [Message] = decision.publish.compactMap { published in
            FixPayload.encode(published, deviceID: deviceID, format: format, odometer: reporter.odometer)
                .map { Message(topic: telemetryTopic, payload: $0) }
        }
        for event in zoneEvents {
            out.append(Message(topic: eventsTopic, payload: event.json(deviceID: deviceID), event: event))
        }
        for event in decision.events {
            out.append(Message(topic: alertsTopic, payload: event.json(deviceID: deviceID), motion: event))
        }
        return out
    }

    /// The lowest limit of the zones the tracker is in, else the global one.
    private func speedLimit() -> (speed: Double, zone: String?)? {
        var limit: (speed: Double, zone: String?)?
        for zone in limitedZones where detector.state(of: zone.name) == .inBoundary {
            if limit.map({ zone.maxSpeed < $0.speed }) ?? true { limit = (zone.maxSpeed, zone.name) }
        }
        // Over the policy's speed anywhere (0: off); a zone's own limit applies inside it.
        let overspeed = reporter.policy.overspeed
        if limit == nil && overspeed > 0 { limit = (overspeed, nil) }
        return limit
    }
}
