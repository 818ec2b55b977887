/// Encodes a fix as the bytes trackerd publishes.
///
/// `gpsInput`: `{"gpsDeviceID":"1","gpsLat":10.1,"gpsLng":10.1,"gpsDatTm":"03/02/2020  08:03:20.200"}`,
/// the original detector model's input: month/day/year, two spaces, milliseconds, UTC.
public enum FixPayload {
    /// nil for a fix without position or time: there is nothing to publish. `odometer`: metres
    /// travelled, all time (`extended` only).
    public static func encode(_ fix: Fix, deviceID: String, format: PayloadFormat, odometer: Double? = nil) -> String? {
        guard fix.hasPosition, let latitude = fix.latitude, let longitude = fix.longitude, let time = fix.time else { return nil }
        var out = "{\"gpsDeviceID\":" + jsonString(deviceID)
            + ",\"gpsLat\":" + JSONNumber.fixed(latitude, 7)
            + ",\"gpsLng\":" + JSONNumber.fixed(longitude, 7)
            + ",\"gpsDatTm\":\"" + gpsDateTime(time) + "\""
        if format == .extended {
            out += ",\"time\":\"\(time.iso8601)\",\"mode\":\(fix.mode.rawValue)"
            if let alt = fix.altitudeMSL { out += ",\"altMSL\":" + JSONNumber.fixed(alt, 2) }
            if let speed = fix.speed { out += ",\"speed\":" + JSONNumber.fixed(speed, 2) }
            if let track = fix.track { out += ",\"track\":" + JSONNumber.fixed(track, 1) }
            if let sats = fix.satellitesUsed { out += ",\"sats\":\(sats)" }
            if let hdop = fix.hdop { out += ",\"hdop\":" + JSONNumber.fixed(hdop, 2) }
            if let odometer { out += ",\"odometer_m\":" + JSONNumber.fixed(odometer, 1) }
        }
        return out + "}"
    }

    /// `03/02/2020  08:03:20.200`
    public static func gpsDateTime(_ time: UTCTimestamp) -> String {
        let d = time.date, ms = time.millisecondOfDay
        return "\(pad(d.month, 2))/\(pad(d.day, 2))/\(pad(d.year, 4))  "
            + "\(pad(ms / 3_600_000, 2)):\(pad(ms / 60_000 % 60, 2)):\(pad(ms / 1000 % 60, 2)).\(pad(ms % 1000, 3))"
    }

    /// A JSON string literal with the escapes JSON requires (`JSONWriter`'s, the one rule).
    public static func jsonString(_ text: String) -> String {
        var out: [UInt8] = []
        JSONWriter.string(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
