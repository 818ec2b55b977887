/// What trackerd publishes for each fix, in order: the fix itself when the rate control lets
/// it through, then the geofence events it caused. `trackerd run` and `trackerd simulate`
/// both use it, so a simulation shows exactly what the daemon would send.
public struct PublicationPlanner: Sendable {
    public struct Message: Sendable, Equatable {
        public var topic: String
        public var payload: String
        /// Set for a geofence event (the daemon logs those).
        public var event: GeofenceEvent?
    }

    public let deviceID: String
    public let format: PayloadFormat
    public let telemetryTopic: String
    public let eventsTopic: String
    public private(set) var limiter: PublishRateLimiter
    public private(set) var detector: GeofenceDetector

    public init(deviceID: String, format: PayloadFormat, telemetryTopic: String, eventsTopic: String,
                limiter: PublishRateLimiter, detector: GeofenceDetector) {
        self.deviceID = deviceID
        self.format = format
        self.telemetryTopic = telemetryTopic
        self.eventsTopic = eventsTopic
        self.limiter = limiter
        self.detector = detector
    }

    /// The planner a configuration describes: its payload format, topics (`{thingName}` filled
    /// in) and rate control.
    public init(config: TrackerConfig, deviceID: String, thingName: String, detector: GeofenceDetector) {
        self.init(deviceID: deviceID, format: config.payload.format, telemetryTopic: config.mqtt.topic,
                  eventsTopic: config.mqtt.eventsTopic.replacing("{thingName}", with: thingName),
                  limiter: PublishRateLimiter(minInterval: config.gps.minInterval, minDistance: config.gps.minDistance),
                  detector: detector)
    }

    /// `afterLoss`: the first fix after a loss of fix (always published).
    public mutating func plan(_ fix: Fix, afterLoss: Bool) -> [Message] {
        var out: [Message] = []
        if limiter.shouldPublish(fix, afterLoss: afterLoss), let payload = FixPayload.encode(fix, deviceID: deviceID, format: format) {
            out.append(Message(topic: telemetryTopic, payload: payload))
        }
        for event in detector.evaluate(fix) {
            out.append(Message(topic: eventsTopic, payload: event.json(deviceID: deviceID), event: event))
        }
        return out
    }
}
