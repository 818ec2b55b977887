/// The one-line JSON form of a fix that `trackerd decode` prints: gpsd's TPV names where they
/// exist (`mode`, `lat`, `lon`, `altMSL`, `speed`, `track`, `eph`), a key only when its value is known.
public enum FixJSON {
    public static func encode(_ fix: Fix) -> String {
        var out = "{"
        var first = true
        func key(_ name: String, _ text: String) {
            out += (first ? "\"" : ",\"") + name + "\":" + text
            first = false
        }
        if let time = fix.time { key("time", "\"\(time.iso8601)\"") }
        key("mode", String(fix.mode.rawValue))
        if let quality = fix.quality, fix.hasPosition { key("quality", "\"\(quality.rawValue)\"") }
        if let lat = fix.latitude { key("lat", JSONNumber.fixed(lat, 9)) }
        if let lon = fix.longitude { key("lon", JSONNumber.fixed(lon, 9)) }
        if let alt = fix.altitudeMSL { key("altMSL", JSONNumber.fixed(alt, 3)) }
        if let sep = fix.geoidSeparation { key("geoidSep", JSONNumber.fixed(sep, 3)) }
        if let speed = fix.speed { key("speed", JSONNumber.fixed(speed, 3)) }
        if let track = fix.track { key("track", JSONNumber.fixed(track, 2)) }
        if let sats = fix.satellitesUsed { key("sats", String(sats)) }
        if let hdop = fix.hdop { key("hdop", JSONNumber.fixed(hdop, 2)) }
        if let pdop = fix.pdop { key("pdop", JSONNumber.fixed(pdop, 2)) }
        if let vdop = fix.vdop { key("vdop", JSONNumber.fixed(vdop, 2)) }
        if let eph = fix.horizontalError { key("eph", JSONNumber.fixed(eph, 2)) }
        return out + "}"
    }
}
