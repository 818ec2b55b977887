/// Encodes a fix as the bytes trackerd publishes.
///
/// `gpsInput`: `{"gpsDeviceID":"1","gpsLat":10.1,"gpsLng":10.1,"gpsDatTm":"03/02/2020  08:03:20.200"}`,
/// the original detector model's input: month/day/year, two spaces, milliseconds, UTC.
public enum FixPayload {
    /// nil for a fix without position or time: there is nothing to publish. `odometer`: metres
    /// travelled, all time (`extended` only).
    public static func encode(_ fix: Fix, deviceID: String, format: PayloadFormat, odometer: Double? = nil) -> String? {
        guard fix.hasPosition, let latitude = fix.latitude, let longitude = fix.longitude, let time = fix.time else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(format == .extended ? 320 : 128)
        func literal(_ text: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        literal(#"{"gpsDeviceID":"#)
        JSONWriter.string(deviceID, into: &out)
        literal(#","gpsLat":"#)
        JSONNumber.appendFixed(latitude, 7, to: &out)
        literal(#","gpsLng":"#)
        JSONNumber.appendFixed(longitude, 7, to: &out)
        literal(#","gpsDatTm":""#)
        appendGPSDateTime(time, to: &out)
        literal(#"""#)
        if format == .extended {
            literal(#","time":""#)
            time.appendISO8601(to: &out)
            literal(#"","mode":"#)
            appendPadded(fix.mode.rawValue, 1, to: &out)
            if let alt = fix.altitudeMSL { literal(#","altMSL":"#); JSONNumber.appendFixed(alt, 2, to: &out) }
            if let speed = fix.speed { literal(#","speed":"#); JSONNumber.appendFixed(speed, 2, to: &out) }
            if let track = fix.track { literal(#","track":"#); JSONNumber.appendFixed(track, 1, to: &out) }
            if let sats = fix.satellitesUsed { literal(#","sats":"#); appendPadded(sats, 1, to: &out) }
            if let hdop = fix.hdop { literal(#","hdop":"#); JSONNumber.appendFixed(hdop, 2, to: &out) }
            if let odometer { literal(#","odometer_m":"#); JSONNumber.appendFixed(odometer, 1, to: &out) }
        }
        literal("}")
        return String(decoding: out, as: UTF8.self)
    }

    /// `03/02/2020  08:03:20.200`
    public static func gpsDateTime(_ time: UTCTimestamp) -> String {
        var out: [UInt8] = []
        appendGPSDateTime(time, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendGPSDateTime(_ time: UTCTimestamp, to out: inout [UInt8]) {
        let d = time.date
        appendPadded((d.month, 2), (d.day, 2), (d.year, 4), separatedBy: "/", to: &out)
        out.append(UInt8(ascii: " "))
        out.append(UInt8(ascii: " "))
        time.appendTimeOfDay(to: &out)
    }

    /// A JSON string literal with the escapes JSON requires (`JSONWriter`'s, the one rule).
    public static func jsonString(_ text: String) -> String {
        var out: [UInt8] = []
        JSONWriter.string(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
