import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
import TrackerCore

/// localcloud's dashboard in a real browser (Debian's headless chromium) while a real trackerd
/// provisions itself and drives across the depot: the page, loaded before the tracker exists,
/// shows it arrive, connect, move and raise events without reloading or polling. A screenshot is
/// kept in .build/test-artefacts/.
@Suite(.serialized) struct DashboardTests {
    typealias Cloud = ProvisioningEndToEndTests.LocalCloudSetup
    static let thing = "tracker_10000000abcd"
    /// The depot, named as a hostile device might name a zone: the page must show it as text.
    static let zoneName = "depot <img src=x onerror=document.body.dataset.pwned=1>"
    static let depot = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"\#(zoneName)"},"geometry":{"type":"Polygon","coordinates":[[[10.1,10.1],[10.2,10.1],[10.2,10.2],[10.1,10.2],[10.1,10.1]]]}}]}"#
    static let yard = #"{"geofences":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"south-yard"},"geometry":{"type":"Polygon","coordinates":[[[10.16,10.03],[10.26,10.03],[10.26,10.07],[10.16,10.07],[10.16,10.03]]]}}]}}"#

    static var artefacts: URL {
        URL(fileURLWithPath: TrackerdBinary.path).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("test-artefacts")
    }

    func api(_ cloud: Cloud, _ path: String) async throws -> JSONValue {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(cloud.httpPort)\(path)")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(path)")
        return try #require(JSONValue.parse(Array(data)), "\(path): \(String(decoding: data, as: UTF8.self))")
    }

    @Test func aBrowserFollowsATrackerLive() async throws {
        let zonesDirectory = try TemporaryDirectory()
        defer { zonesDirectory.remove() }
        let zones = zonesDirectory.file("zones.geojson")
        try Self.depot.write(to: zones, atomically: true, encoding: .utf8)
        let cloud = try await Cloud.start(serveArguments: ["--zones", zones.path])
        defer { cloud.stop() }
        #expect(cloud.serve.stderrLines.items.contains { $0.contains("dashboard http://127.0.0.1:\(cloud.httpPort)/") })

        let browser: HeadlessChromium
        do { browser = try await HeadlessChromium.start() } catch {
            Issue.record("no browser: \(error)")
            return
        }
        try await browser.navigate("http://127.0.0.1:\(cloud.httpPort)/")
        let following = try await browser.waitFor("document.body.dataset.stream === 'open'")
        #expect(following != nil, "the page never opened its event stream: \(browser.log.suffix(2000))")
        #expect(try await browser.evaluate("document.querySelectorAll('#things tr[data-thing]').length") == .number(0))
        #expect(try await browser.waitFor("document.querySelectorAll('path.zone').length") == .number(1), "the depot, from --zones")
        #expect(try await browser.evaluate("[...document.querySelectorAll('.zone-label')].map(l => l.textContent)") == .array([.string(Self.zoneName)]))
        #expect(try await browser.evaluate("document.querySelectorAll('.zone-label img').length === 0 && !document.body.dataset.pwned") == .bool(true))
        #expect(try await browser.evaluate("document.querySelectorAll('path.grid').length > 4") == .bool(true), "no tiles: a grid")

        // The tracker: first boot, then nine minutes of the drive (out of the depot, over 20 m/s)
        // at 5x, every fix published: it drives on while the page is checked.
        let drive = cloud.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080620...081500, into: drive)
        let config = try cloud.config("""

        [[geofence]]
        name = "depot"
        polygon = [[10.1, 10.1], [10.1, 10.2], [10.2, 10.2], [10.2, 10.1]]
        """, report: "policy = \"every-fix\"\noverspeed_mps = 20")
        let run = try TrackerdBinary.start(["run", "--config", config, "--replay", drive.path, "--replay-speed", "5"])
        defer { run.stop() }

        let row = "document.querySelector('#things tr[data-thing=\"\(Self.thing)\"]')"
        #expect(try await browser.waitFor("\(row) && \(row).dataset.connected === 'true' && \(row).querySelector('.registered').textContent.startsWith('20')",
                                          timeout: .seconds(60)) != nil,
                "the thing did not appear provisioned and online: \(run.stderrLines.items.suffix(5))")
        let events = "document.querySelectorAll('#events li[data-thing=\"\(Self.thing)\"]')"
        #expect(try await browser.waitFor("[...\(events)].some(e => e.dataset.kind === 'geofence' && e.dataset.event === 'OnEnter' && e.textContent.includes('depot: OnEnter OutOfBoundary'))",
                                          timeout: .seconds(60)) != nil, "no geofence event arrived")
        #expect(try await browser.waitFor("[...\(events)].some(e => e.dataset.kind === 'overspeed')", timeout: .seconds(60)) != nil)
        #expect(try await browser.waitFor("[...\(events)].some(e => e.dataset.kind === 'trip' && e.dataset.event === 'TripStart')") != nil)
        // A job: trackerd rejects an operation it does not know, and the page is told.
        try await JobsEndToEndTests.createJob(cloud, id: "odd", document: #"{"operation":"reboot"}"#)
        #expect(try await browser.waitFor("[...\(events)].some(e => e.dataset.kind === 'job' && e.textContent.includes('job odd: REJECTED'))",
                                          timeout: .seconds(30)) != nil, "no job event arrived")
        #expect(try await browser.waitFor("\(row).querySelector('.position').textContent.includes('10.')") != nil, "no last position")
        // Leaflet draws a straight stretch as one segment: the page's count of points says more.
        #expect(try await browser.waitFor("Number(document.body.dataset.points) >= 10 && /L/.test(document.querySelector('path.track').getAttribute('d'))") != nil,
                "no track of ten points")
        #expect(try await browser.evaluate("document.querySelectorAll('path.thing-marker').length") == .number(1))
        // An operator pushes a zone through the thing's shadow: the page draws it without a reload.
        let push = try await ShadowEndToEndTests().shadow(cloud, Self.thing, desired: Self.yard)
        #expect(push.status == 0, "\(push)")
        #expect(try await browser.waitFor("document.querySelectorAll('path.zone').length === 2 && [...document.querySelectorAll('.zone-label')].some(l => l.textContent === 'south-yard')") != nil,
                "the shadow's zone was not drawn")

        try FileManager.default.createDirectory(at: Self.artefacts, withIntermediateDirectories: true)
        let shot = Self.artefacts.appendingPathComponent("dashboard.png")
        try await browser.screenshot().write(to: shot)
        print("dashboard screenshot: \(shot.path)")

        // The tracker stops: the broker's word reaches the page as the thing going offline.
        #expect(try await browser.evaluate("\(row).dataset.connected") == .string("true"), "the drive ended before the checks did")
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(30)) == 0)
        #expect(try await browser.waitFor("\(row).dataset.connected === 'false'", timeout: .seconds(30)) != nil)

        // What the page shows is what the API says.
        let eventList = try await api(cloud, "/api/events?thing=\(Self.thing)&limit=1000")
        guard case .array(let listed)? = eventList["events"] else { Issue.record("no events"); return }
        let shown = try await browser.evaluate("[...\(events)].map(e => Number(e.dataset.id)).sort((a, b) => a - b)")
        #expect(shown == .array(listed.compactMap { $0["id"] }))
        let things = try await api(cloud, "/api/things")
        guard case .array(let list)? = things["things"], let thing = list.first else { Issue.record("no things"); return }
        #expect(thing["thingName"] == .string(Self.thing) && thing["connected"] == .bool(false))
        #expect(try await browser.evaluate("\(row).querySelector('.position').textContent")
                    .textValue?.hasPrefix(String(format: "%.5f", thing["lastPosition"]?["lat"]?.numberValue ?? 0)) == true)

        // No polling: the page asked for the fleet once and followed one stream.
        let requests = browser.requestedURLs.filter { $0.contains("/api/") }
        #expect(requests.filter { $0.hasSuffix("/api/things") }.count == 1, "\(requests)")
        #expect(requests.filter { $0.contains("/api/stream") }.count == 1, "\(requests)")
        #expect(requests.filter { $0.contains("/api/events") }.count == 1, "\(requests)")
        // Zones: once, and again for each accepted shadow update (the operator's, the tracker's report).
        #expect((2...4).contains(requests.filter { $0.contains("/api/zones") }.count), "\(requests)")
    }
}
