/// The JSON published for each fix.
public enum PayloadFormat: String, Sendable, CaseIterable {
    /// The original design's IoT Events input: `{"gpsDeviceID","gpsLat","gpsLng","gpsDatTm"}`.
    case gpsInput
    /// gpsInput plus altMSL, speed, track, sats, hdop, mode and an ISO-8601 time.
    case extended
}
