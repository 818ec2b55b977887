import CTestSupport
import Foundation
import Synchronization
import TrackerCore

/// Debian's chromium, headless, driven over the DevTools protocol through
/// `--remote-debugging-pipe` (commands on its descriptor 3, replies and events on 4, each a JSON
/// message ended by a NUL): a real browser loading a real page, no WebDriver and no websocket.
/// One page (tab) is opened and attached; `evaluate` runs JavaScript in it, `waitFor` waits on a
/// condition of the page with a deadline, `screenshot` takes a PNG. Stopped by PID.
public final class HeadlessChromium: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static let executable = "/usr/bin/chromium"

    /// Every message from the browser: replies (`id`) and events (`method`), in order.
    public let messages: EventLog<JSONValue>
    private let process: ChildProcess
    private let channel: Channel
    private let profile: TemporaryDirectory
    private let session: String

    /// The write end of the command pipe and the numbering of commands.
    private final class Channel: Sendable {
        let fd: Int32
        let lastID = Atomic<Int>(0)
        init(_ fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }

    /// Starts the browser and attaches to its blank page, with the Page, Runtime and Network
    /// domains enabled (so requests are seen from the first navigation on).
    public static func start(width: Int = 1280, height: Int = 800) async throws -> HeadlessChromium {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw Failure(description: "\(executable) is missing: Debian's chromium package (make test installs it)")
        }
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard trackerd_test_pipe_cloexec(&toBrowser) == 0, trackerd_test_pipe_cloexec(&fromBrowser) == 0 else {
            throw Failure(description: "no pipes: \(String(cString: strerror(errno)))")
        }
        // A browser that dies must cost a command an EPIPE, not the test process a SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let profile = try TemporaryDirectory()
        var arguments = ["--headless", "--remote-debugging-pipe", "--user-data-dir=\(profile.path)", "--no-first-run",
                         "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions",
                         "--disable-background-networking", "--disable-component-update", "--mute-audio",
                         "--window-size=\(width),\(height)", "about:blank"]
        // Its sandbox needs user namespaces or a setuid helper, which a root CI container lacks.
        if getuid() == 0 { arguments.insert("--no-sandbox", at: 0) }
        let process: ChildProcess
        do {
            process = try ChildProcess(executable, arguments, stderrPath: profile.path + "/chromium.log",
                                       descriptors: [(toBrowser[0], 3), (fromBrowser[1], 4)])
        } catch {
            for fd in toBrowser + fromBrowser { close(fd) }
            profile.remove()
            throw error
        }
        close(toBrowser[0])
        close(fromBrowser[1])
        let messages = EventLog<JSONValue>()
        Self.read(fromBrowser[0], into: messages)
        let channel = Channel(toBrowser[1])
        do {
            let targets = try await call(messages, channel, "Target.getTargets", [:], session: nil)
            guard case .array(let infos)? = targets["targetInfos"],
                  let page = infos.first(where: { $0["type"]?.textValue == "page" })?["targetId"]?.textValue else {
                throw Failure(description: "chromium opened no page: \(targets)")
            }
            let attached = try await call(messages, channel, "Target.attachToTarget", ["targetId": .string(page), "flatten": .bool(true)],
                                          session: nil)
            guard let session = attached["sessionId"]?.textValue else { throw Failure(description: "no session: \(attached)") }
            for domain in ["Page", "Runtime", "Network"] {
                _ = try await call(messages, channel, domain + ".enable", [:], session: session)
            }
            return HeadlessChromium(process: process, channel: channel, profile: profile, messages: messages, session: session)
        } catch {
            process.stop()
            profile.remove()
            throw error
        }
    }

    private init(process: ChildProcess, channel: Channel, profile: TemporaryDirectory, messages: EventLog<JSONValue>, session: String) {
        self.process = process
        self.channel = channel
        self.profile = profile
        self.messages = messages
        self.session = session
    }

    /// The browser's own log (its standard error), for a failing test's message.
    public var log: String { (try? String(contentsOfFile: profile.path + "/chromium.log", encoding: .utf8)) ?? "" }

    deinit {
        process.stop()
        profile.remove()
    }

    public func navigate(_ url: String) async throws {
        _ = try await command("Page.navigate", ["url": .string(url)])
    }

    /// The value of `expression` (awaited if it is a promise); a thrown exception is a Failure.
    public func evaluate(_ expression: String, timeout: Duration = .seconds(30)) async throws -> JSONValue {
        let reply = try await command("Runtime.evaluate", ["expression": .string(expression), "awaitPromise": .bool(true),
                                                           "returnByValue": .bool(true)], timeout: timeout)
        if let exception = reply["exceptionDetails"] {
            throw Failure(description: "\(expression): \(exception["exception"]?["description"]?.textValue ?? "\(exception)")")
        }
        return reply["result"]?["value"] ?? .null
    }

    /// Waits until `condition` (a JavaScript expression) is truthy in the page, checking it
    /// whenever the document changes (a MutationObserver) and once at the start; returns its
    /// value, or nil at the deadline.
    public func waitFor(_ condition: String, timeout: Duration = .seconds(30)) async throws -> JSONValue? {
        let milliseconds = Int(timeout.components.seconds * 1000)
        let script = """
        new Promise((resolve) => {
          const check = () => { try { return (\(condition)) || null; } catch (e) { return null; } };
          const first = check();
          if (first) return resolve(first);
          const observer = new MutationObserver(() => { const v = check(); if (v) { observer.disconnect(); clearTimeout(timer); resolve(v); } });
          observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
          const timer = setTimeout(() => { observer.disconnect(); resolve(check()); }, \(milliseconds));
        })
        """
        let value = try await evaluate(script, timeout: timeout + .seconds(10))
        return value == .null ? nil : value
    }

    /// The page as a PNG.
    public func screenshot() async throws -> Data {
        let reply = try await command("Page.captureScreenshot", ["format": .string("png")])
        guard let text = reply["data"]?.textValue, let data = Data(base64Encoded: text) else {
            throw Failure(description: "no screenshot: \(reply)")
        }
        return data
    }

    /// The URLs the page requested, in order (Network.requestWillBeSent).
    public var requestedURLs: [String] {
        messages.items.filter { $0["method"]?.textValue == "Network.requestWillBeSent" }.compactMap { $0["params"]?["request"]?["url"]?.textValue }
    }

    public func command(_ method: String, _ params: [String: JSONValue], timeout: Duration = .seconds(30)) async throws -> JSONValue {
        try await Self.call(messages, channel, method, params, session: session, timeout: timeout)
    }

    private static func call(_ messages: EventLog<JSONValue>, _ channel: Channel, _ method: String,
                             _ params: [String: JSONValue], session: String?, timeout: Duration = .seconds(30)) async throws -> JSONValue {
        let id = channel.lastID.wrappingAdd(1, ordering: .relaxed).newValue
        var message: [String: JSONValue] = ["id": .number(Double(id)), "method": .string(method), "params": .object(params)]
        if let session { message["sessionId"] = .string(session) }
        var bytes = JSONWriter.write(.object(message))
        bytes.append(0)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(channel.fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "chromium is gone (\(method))") }
            sent += n
        }
        let answered = await messages.wait(timeout: timeout) { items in items.contains { $0["id"] == .number(Double(id)) } }
        guard answered, let reply = messages.items.first(where: { $0["id"] == .number(Double(id)) }) else {
            throw Failure(description: "chromium did not answer \(method) within \(timeout)")
        }
        if let error = reply["error"] { throw Failure(description: "\(method): \(error["message"]?.textValue ?? "\(error)")") }
        return reply["result"] ?? .null
    }

    private static func read(_ fd: Int32, into messages: EventLog<JSONValue>) {
        Thread.detachNewThread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = Glibc.read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                pending.append(contentsOf: buffer[0..<n])
                while let end = pending.firstIndex(of: 0) {
                    if let message = JSONValue.parse(Array(pending[..<end])) { messages.append(message) }
                    pending.removeSubrange(...end)
                }
            }
            close(fd)
        }
    }
}
