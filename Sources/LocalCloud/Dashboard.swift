import Foundation
import TrackerCore

/// localcloud's web dashboard: the page (static files from the repository, Leaflet from
/// Debian's libjs-leaflet) and the JSON API under /api/ that the page and scripts share.
/// README, "localcloud's dashboard", documents the API.
public struct Dashboard: Sendable {
    public struct Settings: Sendable {
        /// The page's own files (index.html, dashboard.js, dashboard.css).
        public var pageDirectory: String
        /// Leaflet's files (leaflet.js, leaflet.css, images/).
        public var leafletDirectory = "/usr/share/javascript/leaflet"
        /// A tile server's URL template (`https://tiles.example/{z}/{x}/{y}.png`); none: a grid.
        public var tiles: String?

        public init(pageDirectory: String, leafletDirectory: String = "/usr/share/javascript/leaflet", tiles: String? = nil) {
            self.pageDirectory = pageDirectory
            self.leafletDirectory = leafletDirectory
            self.tiles = tiles
        }

        /// The page's files as this package builds them (SwiftPM copies Dashboard/ next to the executable).
        public static var bundledPage: String { Bundle.module.bundlePath + "/Dashboard" }
    }

    public let settings: Settings
    public let activity: FleetActivity
    public let zones: FleetZones

    public init(settings: Settings, activity: FleetActivity, zones: FleetZones) {
        self.settings = settings
        self.activity = activity
        self.zones = zones
    }

    /// What the API offers, at GET /api.
    static let endpoints: [String: String] = [
        "/api/config": "the page's settings: tile server, whether Leaflet is installed",
        "/api/things": "every thing: provisioning time, connection, last position; and the stream position they are current to",
        "/api/things/{thing}": "one thing",
        "/api/things/{thing}/track": "its recent fixes, oldest first",
        "/api/things/{thing}/track.geojson": "its recent track as a GeoJSON LineString (times in coordTimes)",
        "/api/things/{thing}/track.gpx": "its recent track and events as GPX 1.1",
        "/api/events": "the latest events, oldest first (?thing=, ?kind=, ?limit=)",
        "/api/zones": "the zones: serve --zones and the things' shadows, as a FeatureCollection",
        "/api/stream": "server-sent events: thing, track, event, zones, reset (?after=N or Last-Event-ID)",
    ]

    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.segments
        switch path.first {
        case nil:
            return file(settings.pageDirectory + "/index.html")
        case "static" where path.count == 2:
            return file(settings.pageDirectory + "/" + path[1])
        case "leaflet" where (2...3).contains(path.count):
            return file(settings.leafletDirectory + "/" + path.dropFirst().joined(separator: "/"))
        case "api":
            return api(Array(path.dropFirst()), request)
        default:
            return .error(404, "no such page: \(request.path)")
        }
    }

    private func api(_ path: [String], _ request: HTTPRequest) -> HTTPResponse {
        switch path.count {
        case 0:
            return .json(.object(["endpoints": .object(Self.endpoints.mapValues(JSONValue.string))]))
        case 1 where path[0] == "config":
            return .json(.object(["tiles": settings.tiles.map(JSONValue.string) ?? .null,
                                  "leaflet": .bool(FileManager.default.fileExists(atPath: settings.leafletDirectory + "/leaflet.js")),
                                  "version": .string(TrackerCore.version)]))
        case 1 where path[0] == "things":
            let (stream, things) = activity.read { view in
                (view.lastID, view.things.values.sorted { $0.name < $1.name }.map(FleetView.json))
            }
            return .json(.object(["stream": .number(Double(stream)), "things": .array(things)]))
        case 1 where path[0] == "events":
            let limit = request.query["limit"].flatMap(Int.init).map { max(0, $0) } ?? 200
            let events = activity.read { view in
                view.events.filter { event in
                    (request.query["thing"].map { $0 == event.thing } ?? true) && (request.query["kind"].map { $0 == event.kind } ?? true)
                }.suffix(limit).map(FleetView.json)
            }
            return .json(.object(["events": .array(Array(events))]))
        case 1 where path[0] == "zones":
            var response = HTTPResponse.json(zones.collection())
            response.headers = [("Content-Type", "application/geo+json")]
            return response
        case 1 where path[0] == "stream":
            // A reconnecting EventSource says where it was in Last-Event-ID; that wins over the first ?after=.
            let after = (request.headers["last-event-id"] ?? request.query["after"]).flatMap(Int.init)
            return .eventStream { stream in follow(stream, after: after) }
        case 2 where path[0] == "things", 3 where path[0] == "things":
            guard let thing = activity.read({ $0.things[path[1]] }) else { return .error(404, "no thing named \(path[1])") }
            switch path.count == 2 ? nil : path[2] {
            case nil: return .json(FleetView.json(thing))
            case "track": return .json(.object(["thing": .string(thing.name), "points": .array(thing.track.map(FleetView.json(point:)))]))
            case "track.geojson": return trackGeoJSON(thing)
            case "track.gpx": return trackGPX(thing)
            default: return .error(404, "no such resource: \(request.path)")
            }
        default:
            return .error(404, "no such resource: \(request.path) (GET /api lists them)")
        }
    }

    /// The stream: what came after `after` (or, without it, from now), then each change as it
    /// comes; a comment every 15 s keeps proxies and dead clients honest.
    private func follow(_ stream: HTTPStream, after: Int?) {
        let (token, news) = activity.listen()
        defer { activity.stopListening(token) }
        var last = after ?? activity.read { $0.lastID }
        guard stream.send(Array("retry: 2000\n\n".utf8)) else { return }
        while true {
            news.drain()
            let (messages, newest) = activity.read { ($0.messages(after: last), $0.lastID) }
            var bytes: [UInt8] = []
            if let messages {
                for message in messages { bytes += message.wire }
                last = messages.last?.id ?? last
            } else {
                // Some of what it missed is no longer kept: the page loads everything again.
                bytes = FleetView.StreamMessage(id: newest, event: "reset", data: Array("{}".utf8)).wire
                last = newest
            }
            if !bytes.isEmpty, !stream.send(bytes) { return }
            guard stream.wait(for: news, milliseconds: 15_000) else { return }
            if activity.read({ $0.lastID }) == last, !stream.send(Array(": keep-alive\n\n".utf8)) { return }
        }
    }

    private func trackGeoJSON(_ thing: FleetView.Thing) -> HTTPResponse {
        let coordinates: [JSONValue] = thing.track.map { .array([.number($0.position.longitude), .number($0.position.latitude)]) }
        let geometry: JSONValue = switch coordinates.count {
        case 0: .null
        case 1: .object(["type": .string("Point"), "coordinates": coordinates[0]])
        default: .object(["type": .string("LineString"), "coordinates": .array(coordinates)])
        }
        let feature: JSONValue = .object(["type": .string("Feature"), "geometry": geometry, "properties": .object([
            "thing": .string(thing.name), "coordTimes": .array(thing.track.map { .string($0.time.iso8601) }),
        ])])
        var response = HTTPResponse.json(feature)
        response.headers = [("Content-Type", "application/geo+json")]
        return response
    }

    private func trackGPX(_ thing: FleetView.Thing) -> HTTPResponse {
        let waypoints = activity.read { view in
            view.events.filter { $0.thing == thing.name && $0.position != nil }.map { event in
                GPXDocument.Waypoint(position: event.position!, time: event.time.flatMap(UTCTimestamp.init(iso8601:)),
                                     name: event.summary, type: event.kind)
            }
        }
        let fixes = thing.track.map { point in
            Fix(time: point.time, mode: point.altitude == nil ? .twoD : .threeD, latitude: point.position.latitude,
                longitude: point.position.longitude, altitudeMSL: point.altitude, speed: point.speed, track: point.course)
        }
        let document = GPXDocument(name: thing.name, waypoints: waypoints, segments: [fixes])
        let filename = thing.name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0) ? String($0) : "_" }.joined()
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/gpx+xml"),
                                                   ("Content-Disposition", "attachment; filename=\"\(filename).gpx\"")],
                            body: Array(document.xml.utf8))
    }

    /// A file of the page or of Leaflet; names are plain (the request parser refuses dot segments).
    private func file(_ path: String) -> HTTPResponse {
        guard let data = FileManager.default.contents(atPath: path) else {
            if path.hasPrefix(settings.leafletDirectory) {
                return .error(404, "\(path) is missing: install Debian's libjs-leaflet (or give serve --leaflet DIR)")
            }
            return .error(404, "no such file: \(path)")
        }
        let type: String = switch (path as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "png": "image/png"
        case "svg": "image/svg+xml"
        case "map", "json": "application/json"
        default: "application/octet-stream"
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", type), ("Cache-Control", "no-cache")], body: Array(data))
    }
}
