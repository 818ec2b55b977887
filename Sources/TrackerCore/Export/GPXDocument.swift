/// A GPX 1.1 file (www.topografix.com/GPX/1/1): one track of fixes in segments, and events as
/// waypoints, for gpxsee, QGIS, gpsbabel and every GPS tool. Speed and course, which GPX 1.1
/// has no element for, go in Garmin's TrackPointExtension v2, which those tools read.
public struct GPXDocument: Sendable, Equatable {
    public struct Waypoint: Sendable, Equatable {
        public var position: GeoPoint
        public var time: UTCTimestamp?
        public var name: String
        /// GPX's `type`: what kind of event (`geofence`, `trip`, `overspeed`).
        public var type: String?

        public init(position: GeoPoint, time: UTCTimestamp?, name: String, type: String? = nil) {
            self.position = position
            self.time = time
            self.name = name
            self.type = type
        }
    }

    /// The track's name (the capture's file, the thing).
    public var name: String?
    public var waypoints: [Waypoint]
    /// Segments of fixes with a position; a segment ends where the receiver lost its fix.
    public var segments: [[Fix]]

    public init(name: String? = nil, waypoints: [Waypoint] = [], segments: [[Fix]] = []) {
        self.name = name
        self.waypoints = waypoints
        self.segments = segments
    }

    /// Adds a receiver's fixes in order: those with a position extend the open segment, a cycle
    /// without one closes it.
    public mutating func append(_ fix: Fix) {
        guard fix.hasPosition, fix.latitude != nil, fix.longitude != nil else {
            if segments.last?.isEmpty == false { segments.append([]) }
            return
        }
        if segments.isEmpty { segments.append([]) }
        segments[segments.count - 1].append(fix)
    }

    public var xml: String {
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <gpx version="1.1" creator="trackerd \(TrackerCore.version)" xmlns="http://www.topografix.com/GPX/1/1" \
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
        xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2" \
        xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd \
        http://www.garmin.com/xmlschemas/TrackPointExtension/v2 http://www8.garmin.com/xmlschemas/TrackPointExtensionv2.xsd">

        """
        if let name { out += "  <metadata><name>\(Self.escaped(name))</name></metadata>\n" }
        // The schema's order: metadata, wpt, rte, trk; and inside a point ele, time, ..., fix, sat, hdop, extensions.
        for waypoint in waypoints {
            out += "  <wpt " + Self.coordinates(waypoint.position.latitude, waypoint.position.longitude) + ">"
            if let time = waypoint.time { out += "<time>\(time.iso8601)</time>" }
            out += "<name>\(Self.escaped(waypoint.name))</name>"
            if let type = waypoint.type { out += "<type>\(Self.escaped(type))</type>" }
            out += "</wpt>\n"
        }
        let segments = segments.filter { !$0.isEmpty }
        if !segments.isEmpty {
            out += "  <trk>\n"
            if let name { out += "    <name>\(Self.escaped(name))</name>\n" }
            for segment in segments {
                out += "    <trkseg>\n"
                for fix in segment { out += "      " + Self.trackPoint(fix) + "\n" }
                out += "    </trkseg>\n"
            }
            out += "  </trk>\n"
        }
        return out + "</gpx>\n"
    }

    static func trackPoint(_ fix: Fix) -> String {
        var out = "<trkpt " + coordinates(fix.latitude ?? 0, fix.longitude ?? 0) + ">"
        if let altitude = fix.altitudeMSL { out += "<ele>" + JSONNumber.fixed(altitude, 2) + "</ele>" }
        if let time = fix.time { out += "<time>\(time.iso8601)</time>" }
        out += "<fix>" + (fix.quality == .dgps ? "dgps" : fix.mode == .threeD ? "3d" : "2d") + "</fix>"
        if let satellites = fix.satellitesUsed, satellites >= 0 { out += "<sat>\(satellites)</sat>" }
        if let hdop = fix.hdop { out += "<hdop>" + JSONNumber.fixed(hdop, 2) + "</hdop>" }
        if fix.speed != nil || fix.track != nil {
            out += "<extensions><gpxtpx:TrackPointExtension>"
            if let speed = fix.speed { out += "<gpxtpx:speed>" + JSONNumber.fixed(speed, 2) + "</gpxtpx:speed>" }
            if let track = fix.track { out += "<gpxtpx:course>" + JSONNumber.fixed(track, 1) + "</gpxtpx:course>" }
            out += "</gpxtpx:TrackPointExtension></extensions>"
        }
        return out + "</trkpt>"
    }

    static func coordinates(_ latitude: Double, _ longitude: Double) -> String {
        "lat=\"" + JSONNumber.fixed(latitude, 7) + "\" lon=\"" + JSONNumber.fixed(longitude, 7) + "\""
    }

    /// Text and attribute content: the five XML specials as entities, and the control characters
    /// XML 1.0 cannot carry at all dropped.
    static func escaped(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let entity = entities[scalar] {
                out.append(contentsOf: entity.unicodeScalars)
            } else if scalar.value >= 0x20 ? scalar.value < 0xFFFE : [0x09, 0x0A, 0x0D].contains(scalar.value) {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static let entities: [Unicode.Scalar: String] = ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&apos;"]
}
