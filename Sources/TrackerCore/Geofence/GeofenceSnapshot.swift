/// The zones' states as kept across restarts (`[store] dir/geofence.json`), so that a reboot
/// sends no duplicate notification.
public struct GeofenceSnapshot: Codable, Sendable, Equatable {
    public var lastTime: UTCTimestamp?
    public var zones: [String: GeofenceDetector.SavedState]

    public init(lastTime: UTCTimestamp?, zones: [String: GeofenceDetector.SavedState]) {
        self.lastTime = lastTime
        self.zones = zones
    }

    public init(_ detector: GeofenceDetector) {
        self.init(lastTime: detector.lastTime, zones: detector.saved)
    }
}
