import Foundation
import Testing
@testable import LocalCloud
import TestSupport
import TrackerCore

/// localcloud's web server and the dashboard's API over real loopback sockets: request heads,
/// refusals, files, the JSON API, and the event stream (live, resumed, reset, ended).
@Suite struct DashboardServerTests {
    struct ConnectError: Error { let errno: Int32 }

    /// A raw HTTP client: the request as bytes, the answer as the server wrote it.
    final class Client {
        let fd: Int32

        init(port: Int) throws {
            guard let fd = LoopbackPort.connect(port) else { throw ConnectError(errno: errno) }
            self.fd = fd
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        /// Reads until `done` holds for what came, the server closes, or 20 s pass.
        func read(until done: (String) -> Bool = { _ in false }) -> String {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 8192)
            while !done(String(decoding: received, as: UTF8.self)) {
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n > 0 else { break }
                received += buffer[0..<n]
            }
            return String(decoding: received, as: UTF8.self)
        }
    }

    static func get(_ port: Int, _ target: String, headers: String = "") throws -> (status: Int, head: String, body: String) {
        let client = try Client(port: port)
        client.send("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)\r\n")
        let answer = client.read()
        let parts = answer.components(separatedBy: "\r\n\r\n")
        let status = Int(answer.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, parts[0], parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    struct Site {
        let directory: TemporaryDirectory
        let activity: FleetActivity
        let server: HTTPServer

        init(maximumConnections: Int = 64, messageLimit: Int = 5000, tiles: String? = nil) throws {
            directory = try TemporaryDirectory()
            let page = directory.path + "/page"
            try FileManager.default.createDirectory(atPath: page, withIntermediateDirectories: true)
            try "<html>fleet</html>".write(toFile: page + "/index.html", atomically: true, encoding: .utf8)
            try "// page".write(toFile: page + "/dashboard.js", atomically: true, encoding: .utf8)
            try "secret".write(toFile: directory.path + "/secret.txt", atomically: true, encoding: .utf8)
            activity = FleetActivity(FleetView(messageLimit: messageLimit))
            let dashboard = Dashboard(settings: .init(pageDirectory: page, leafletDirectory: directory.path + "/no-leaflet", tiles: tiles),
                                      activity: activity, zones: try FleetZones(file: nil, shadowsDirectory: directory.path + "/shadows"))
            server = try HTTPServer(port: 0, maximumConnections: maximumConnections) { dashboard.respond($0) }
        }

        func stop() {
            server.stop()
            directory.remove()
        }

        func fix(_ second: Int) {
            activity.update { $0.received(topic: "gpsTopic", clientID: "t1", payload: FleetViewTests.json(FleetViewTests.fix(second)), at: "now") }
        }
    }

    @Test func requestHeadsAreReadStrictly() throws {
        let request = try HTTPRequest(head: Array("GET /api/things/tracker%2F1/track.gpx?limit=5&kind=geo+fence HTTP/1.1\r\nHost: x\r\nLast-Event-ID:  7 \r\n\r\n".utf8))
        #expect(request.method == "GET" && request.segments == ["api", "things", "tracker/1", "track.gpx"])
        #expect(request.query == ["limit": "5", "kind": "geo fence"] && request.headers["last-event-id"] == "7")
        #expect(try HTTPRequest(head: Array("HEAD / HTTP/1.0\n\n".utf8)).segments == [])
        for bad in ["GET / HTTP/2\r\n\r\n", "get / HTTP/1.1\r\n\r\n", "GET http://x/ HTTP/1.1\r\n\r\n", "GET /a/../etc HTTP/1.1\r\n\r\n",
                    "GET /%zz HTTP/1.1\r\n\r\n", "GET /%ff HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n: no name\r\n\r\n", "GET /\r\n\r\n"] {
            #expect(throws: HTTPRequest.Invalid.self, "\(bad)") { try HTTPRequest(head: Array(bad.utf8)) }
        }
    }

    @Test func filesAndRefusals() throws {
        let site = try Site()
        defer { site.stop() }
        let port = site.server.port
        let page = try Self.get(port, "/")
        #expect(page.status == 200 && page.body == "<html>fleet</html>" && page.head.contains("Content-Type: text/html"))
        #expect(try Self.get(port, "/static/dashboard.js").head.contains("text/javascript"))
        #expect(try Self.get(port, "/static/../secret.txt").status == 400)
        #expect(try Self.get(port, "/static/%2E%2E/secret.txt").status == 400)
        #expect(try Self.get(port, "/static/missing.css").status == 404)
        let leaflet = try Self.get(port, "/leaflet/leaflet.js")
        #expect(leaflet.status == 404 && leaflet.body.contains("libjs-leaflet"))
        let client = try Client(port: port)
        client.send("POST /api/things HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
        let refused = client.read()
        #expect(refused.hasPrefix("HTTP/1.1 405 ") && refused.contains("Allow: GET, HEAD"))
        let head = try Client(port: port)
        head.send("HEAD / HTTP/1.1\r\n\r\n")
        let headAnswer = head.read()
        #expect(headAnswer.hasPrefix("HTTP/1.1 200 ") && headAnswer.contains("Content-Length: 18") && !headAnswer.contains("fleet"))
        let huge = try Client(port: port)
        huge.send("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 20_000) + "\r\n\r\n")
        #expect(huge.read().hasPrefix("HTTP/1.1 431 "))
        // A client that connects and says nothing does not stop the others.
        let silent = try Client(port: port)
        #expect(try Self.get(port, "/api/config").status == 200)
        _ = silent
    }

    @Test func theAPIAnswersWhatTheViewHolds() throws {
        let site = try Site()
        defer { site.stop() }
        site.activity.update { $0.registered("t1", at: "2026-11-30T10:00:00Z", attributes: [:]) }
        for second in 0..<3 { site.fix(second) }
        let port = site.server.port
        let things = try #require(JSONValue.parse(Array(try Self.get(port, "/api/things").body.utf8)))
        #expect(things["stream"] == .number(Double(site.activity.read { $0.lastID })))
        guard case .array(let list)? = things["things"] else { Issue.record("no things"); return }
        #expect(list.count == 1 && list[0]["lastPosition"]?["time"] == .string("2020-03-02T08:00:02.000Z"))
        let geojson = try Self.get(port, "/api/things/t1/track.geojson")
        #expect(geojson.head.contains("application/geo+json"))
        let feature = try #require(JSONValue.parse(Array(geojson.body.utf8)))
        #expect(feature["geometry"]?["type"] == .string("LineString"))
        if case .array(let times)? = feature["properties"]?["coordTimes"] { #expect(times.count == 3) } else { Issue.record("no coordTimes") }
        let gpx = try Self.get(port, "/api/things/t1/track.gpx")
        #expect(gpx.head.contains("application/gpx+xml") && gpx.head.contains(#"filename="t1.gpx""#))
        #expect(gpx.body.components(separatedBy: "<trkpt ").count == 4)
        #expect(try Self.get(port, "/api/things/nobody").status == 404)
        #expect(try Self.get(port, "/api/things/t1/odometer").status == 404)
        let zones = try #require(JSONValue.parse(Array(try Self.get(port, "/api/zones").body.utf8)))
        #expect(zones["type"] == .string("FeatureCollection"))
        let index = try #require(JSONValue.parse(Array(try Self.get(port, "/api").body.utf8)))
        #expect(index["endpoints"]?["/api/stream"] != nil)
        let config = try #require(JSONValue.parse(Array(try Self.get(port, "/api/config").body.utf8)))
        #expect(config["tiles"] == .null && config["leaflet"] == .bool(false))
        let tiled = try Site(tiles: "https://tiles.example.org/{z}/{x}/{y}.png")
        defer { tiled.stop() }
        let tiledConfig = try #require(JSONValue.parse(Array(try Self.get(tiled.server.port, "/api/config").body.utf8)))
        #expect(tiledConfig["tiles"] == .string("https://tiles.example.org/{z}/{x}/{y}.png"))
    }

    /// Messages after `after` at once, then each change live; a reconnect's Last-Event-ID wins
    /// over the first ?after=; a page too far behind gets `reset`; the server's stop ends it.
    @Test func theEventStreamFollowsResumesAndEnds() throws {
        let site = try Site(messageLimit: 6)
        defer { site.stop() }
        let port = site.server.port
        site.fix(0)
        let after = site.activity.read { $0.lastID }
        site.fix(1)
        let live = try Client(port: port)
        live.send("GET /api/stream?after=\(after) HTTP/1.1\r\n\r\n")
        let first = live.read { $0.contains("id: \(after + 2)\n") && $0.hasSuffix("\n\n") }
        #expect(first.hasPrefix("HTTP/1.1 200 ") && first.contains("Content-Type: text/event-stream") && first.contains("retry: 2000"))
        #expect(first.contains("id: \(after + 1)\nevent: thing\ndata: {") && !first.contains("id: \(after)\n"))
        site.fix(2)
        let next = live.read { $0.contains("event: track") }
        #expect(next.contains("id: \(after + 3)\nevent: thing") && next.contains("id: \(after + 4)\nevent: track"))

        let resumed = try Client(port: port)
        resumed.send("GET /api/stream?after=0 HTTP/1.1\r\nLast-Event-ID: \(after + 3)\r\n\r\n")
        let resumedText = resumed.read { $0.contains("id: \(after + 4)\n") }
        #expect(!resumedText.contains("id: \(after + 3)\n"))

        for second in 3..<8 { site.fix(second) }
        let behind = try Client(port: port)
        behind.send("GET /api/stream?after=1 HTTP/1.1\r\n\r\n")
        let reset = behind.read { $0.contains("event: reset") }
        #expect(reset.contains("id: \(site.activity.read { $0.lastID })\nevent: reset\ndata: {}"))

        #expect(site.activity.listenerCount == 3)
        site.server.stop()
        // Each stream ends: the client reads to the end of the connection, which the server
        // closes only after the stream has stopped listening.
        for client in [live, resumed, behind] { _ = client.read() }
        #expect(site.activity.listenerCount == 0)
    }

    @Test func connectionsBeyondTheLimitAreRefused() throws {
        let site = try Site(maximumConnections: 2)
        defer { site.stop() }
        let port = site.server.port
        let streams = try (0..<2).map { _ in try Client(port: port) }
        for stream in streams {
            stream.send("GET /api/stream HTTP/1.1\r\n\r\n")
            _ = stream.read { $0.contains("retry: 2000") }
        }
        #expect(try Self.get(port, "/api/config").status == 503)
    }
}
