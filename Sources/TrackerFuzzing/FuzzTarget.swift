import TrackerCore

/// TrackerFuzzing: what the fuzzers (`make fuzz`) and the corpus replay (`make test`) feed with
/// arbitrary bytes — every parser that reads outside input. A target returns normally for any
/// input; it traps (which libFuzzer reports as a crash) only when a parser crashes or lets
/// through a value no caller may ever see.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// NMEA 0183 from a receiver: framer, sentences, epoch assembler.
    case nmea
    /// The configuration file: TOML parser and every setting's validation.
    case toml
    /// A geofence's GeoJSON file.
    case geojson
    /// The cloud's replies during fleet provisioning (accepted / rejected for both steps) and
    /// the pending-certificate record kept between them.
    case provisioning
    /// A damaged queue database or write-ahead log: the salvage reader.
    case salvage
    /// The device shadow's messages (any operator may write the desired state): the first byte
    /// picks the topic, the rest is its payload.
    case shadow
    /// AWS IoT Jobs' messages to the tracker (the job documents are anyone's with CreateJob):
    /// the first byte picks the topic and the job in hand, the rest is the payload.
    case jobs
    /// A PKCS#11 URI (the configuration's key, and the one the credential store records): what
    /// parses renders to a URI that parses back to the same key, and never carries a PIN.
    case pkcs11uri = "pkcs11-uri"
    /// Any bytes as JSON: every document from outside goes through this parser. What parses is
    /// written out (compact and indented) and parses back to the same value.
    case json

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .nmea: Self.nmea(bytes)
        case .toml: Self.toml(bytes)
        case .geojson: Self.geojson(bytes)
        case .provisioning: Self.provisioning(bytes)
        case .salvage: Self.salvage(bytes)
        case .shadow: Self.shadow(bytes)
        case .jobs: Self.jobs(bytes)
        case .pkcs11uri: Self.pkcs11URI(bytes)
        case .json: Self.json(bytes)
        }
    }

    static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        precondition((try? JSONParser.parse(JSONWriter.write(value))) == value, "the compact form reads back differently")
        precondition((try? JSONParser.parse(JSONWriter.writePretty(value))) == value, "the indented form reads back differently")
    }

    static func pkcs11URI(_ bytes: [UInt8]) {
        guard let uri = try? PKCS11URI(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
        precondition(!uri.token.isEmpty && !uri.object.isEmpty)
        let again = try? PKCS11URI(parsing: uri.description)
        precondition(again == uri, "a rendered URI reads back as the same key")
        precondition(!uri.keyURI.contains("?"), "the key URI has no query, so no PIN (a label may say pin-value)")
        precondition((try? PKCS11URI(parsing: uri.keyURI))?.keyURI == uri.keyURI)
    }

    static func nmea(_ bytes: [UInt8]) {
        let (fixes, statistics) = NMEADecoder.decode(bytes)
        precondition(statistics.fixes + statistics.noFixes == fixes.count)
        for fix in fixes {
            if fix.hasPosition {
                precondition(FixRanges.latitude.contains(fix.latitude!) && FixRanges.longitude.contains(fix.longitude!))
            } else {
                precondition(fix.latitude == nil && fix.longitude == nil, "a no-fix never carries a position")
            }
            if let time = fix.time { precondition(FixRanges.milliseconds.contains(time.millisecondsSinceEpoch)) }
            for value in [fix.altitudeMSL, fix.speed, fix.track, fix.hdop, fix.pdop, fix.vdop, fix.horizontalError] {
                if let value { precondition(value.isFinite) }
            }
            // What every consumer does with a fix must not trap either.
            _ = FixJSON.encode(fix)
            _ = FixPayload.encode(fix, deviceID: "fuzz", format: .gpsInput)
            _ = FixPayload.encode(fix, deviceID: "fuzz", format: .extended)
            _ = fix.summary
        }
    }

    static func toml(_ bytes: [UInt8]) {
        do {
            _ = try TrackerConfig.parse(bytes: bytes, file: "fuzz.toml")
        } catch {
            for error in error.errors {
                precondition(error.line >= 1)
                precondition(!error.description.contains("\n"), "one error, one line")
            }
        }
    }

    static func geojson(_ bytes: [UInt8]) {
        guard let polygons = try? GeoJSON.polygons(from: bytes) else { return }
        for ring in polygons {
            precondition(ring.count >= 3)
            for point in ring {
                precondition(FixRanges.latitude.contains(point.latitude) && FixRanges.longitude.contains(point.longitude))
            }
            let zone = ZoneShape.polygons([ring])
            _ = zone.contains(ring[0])
            _ = zone.boundingBox
            _ = zone.distanceToBoundary(ring[0])
        }
    }

    static func salvage(_ bytes: [UInt8]) {
        var salvage = QueueSalvage()
        salvage.scanDatabase(bytes)
        if let wal = SQLiteWAL(bytes) {
            precondition(wal.validFrames <= wal.frames.count && wal.lostFrames.count <= wal.frames.count)
            salvage.scanFrames(bytes, wal.frames, pageSize: wal.pageSize)
        }
        for message in salvage.sorted { precondition(message.sequence > 0 && !message.topic.isEmpty) }
    }

    /// The first byte picks the reply (create or register, accepted or rejected); the rest is
    /// its payload, delivered when the flow waits for exactly that step.
    static func provisioning(_ bytes: [UInt8]) {
        _ = try? JSONCodec.decode(PendingCertificate.self, from: bytes)
        guard let selector = bytes.first else { return }
        let payload = Array(bytes.dropFirst())
        let method: ProvisioningFlow.Method = selector & 4 == 0 ? .createKeys : .csr("-----BEGIN CERTIFICATE REQUEST-----")
        var flow = ProvisioningFlow(method: method, template: "fuzzTemplate", parameters: ["SerialNumber": "fuzz"])
        let now = UTCTimestamp(millisecondsSinceEpoch: 1_800_000_000_000)
        let accepted = selector & 1 == 0
        func reply(_ topic: String) -> ProvisioningFlow.Event {
            .message(topic: accepted ? ProvisioningTopics.accepted(topic) : ProvisioningTopics.rejected(topic), payload: payload)
        }
        _ = flow.handle(.start(now: now))
        _ = flow.handle(.connected)
        _ = flow.handle(.subscribed)
        let createTopic = method == .createKeys ? ProvisioningTopics.createKeysAndCertificate : ProvisioningTopics.createCertificateFromCSR
        if selector & 2 == 0 {
            _ = flow.handle(reply(createTopic))
            return
        }
        let valid = #"{"certificateId":"c1","certificatePem":"-----BEGIN CERTIFICATE-----","privateKey":"k","certificateOwnershipToken":"t"}"#
        _ = flow.handle(.message(topic: ProvisioningTopics.accepted(createTopic), payload: Array(valid.utf8)))
        _ = flow.handle(.stored)
        _ = flow.handle(.subscribed)
        _ = flow.handle(reply(ProvisioningTopics.registerThing(template: "fuzzTemplate")))
    }

    /// After a valid document, one message of any kind: whatever it holds, a change is applied
    /// only when valid, the report is a well-formed update, and the settings it brings can be
    /// laid over a configuration and shown.
    static func shadow(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let suffixes = ["get/accepted", "get/rejected", "update/delta", "update/documents", "update/rejected"]
        var shadow = DeviceShadow(thingName: "fuzz")
        let prefix = shadow.prefix
        _ = shadow.received(topic: prefix + "get/accepted",
                            payload: Array(#"{"state":{"desired":{"log_level":"debug"}},"version":1}"#.utf8))
        guard let reaction = shadow.received(topic: prefix + suffixes[Int(selector) % suffixes.count], payload: Array(bytes.dropFirst()))
        else { preconditionFailure("a message on the shadow's own topics always gets a reaction") }
        if let settings = reaction.apply {
            precondition(shadow.problems.isEmpty && settings == shadow.applied)
            precondition(RemoteSettings.validate(.object(settings.document)) == .success(settings), "what was applied validates again")
            var file = TrackerConfig()
            file.mqtt.endpoint = "fuzz.example"
            _ = settings.applied(to: file)
            _ = EffectiveSetting.list(file: file, remote: settings, logLevel: "info")
            for zone in settings.geofences ?? [] { precondition(zone.zone() != nil) }
        }
        if let report = reaction.report {
            precondition(report.count <= NamedShadow.maxDocumentBytes, "a report the service would refuse")
            guard case .object? = JSONValue.parse(report)?["state"]?["reported"] else { preconditionFailure("not an update of the reported state") }
        }
    }

    /// Whatever the service sends: only https is fetched, only the job's own topics are
    /// published to, the ledger names jobs by usable ids, and at most one download is asked for.
    static func jobs(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let sha = String(repeating: "ab", count: 32)
        let document = #"{"operation":"install-package","url":"https://f.example/p.deb","sha256":"\#(sha)","size":10,"version":"0.2.0"}"#
        var ledger = JobLedger()
        switch selector / 8 % 4 {
        case 1: ledger.active = JobLedger.Active(jobId: "j1", operation: .updateGeofences(url: "https://f.example/z", sha256: sha),
                                                  step: .downloading, fromVersion: "0.1.0")
        case 2: ledger.active = JobLedger.Active(jobId: "j1", operation: .installPackage(url: "https://f.example/p.deb", sha256: sha, size: 10, version: "0.2.0"),
                                                  step: .installing, fromVersion: "0.1.0")
        case 3: ledger.ended = [JobLedger.Ended(jobId: "j1", status: "SUCCEEDED")]
        default: break
        }
        var runner = JobRunner(thingName: "fuzz", version: "0.1.0", ledger: ledger, installResult: nil)
        let prefix = "$aws/things/fuzz/jobs/"
        _ = runner.subscribed()
        _ = runner.received(topic: prefix + "start-next/accepted",
                            payload: Array(#"{"execution":{"jobId":"j0","jobDocument":\#(document)}}"#.utf8))
        let suffixes = ["notify-next", "start-next/accepted", "start-next/rejected", "j1/update/accepted", "j1/update/rejected", "j0/update/accepted"]
        guard let actions = runner.received(topic: prefix + suffixes[Int(selector) % suffixes.count], payload: Array(bytes.dropFirst())) else {
            preconditionFailure("a message on the jobs' own topics always gets an answer")
        }
        var downloads = 0
        for action in actions {
            switch action {
            case .download(let jobId, let url, _):
                downloads += 1
                precondition(url.hasPrefix("https://") && JobRunner.isJobID(jobId))
            case .publish(let topic, let payload):
                precondition(topic.hasPrefix(prefix) && JSONValue.parse(payload) != nil)
            case .install(let jobId, _), .applyGeofences(let jobId), .removeFiles(let jobId), .rotateCertificate(let jobId):
                precondition(JobRunner.isJobID(jobId))
            case .save(let saved):
                precondition(saved.active.map { JobRunner.isJobID($0.jobId) } ?? true && saved.ended.count <= JobLedger.keepEnded)
            case .log:
                break
            }
        }
        precondition(downloads <= 1, "one download at a time")
    }
}
