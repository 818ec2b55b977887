import TrackerCore

/// What localcloud's web server sends back: a complete response, or the head of an event stream
/// (`text/event-stream`) whose body `stream` writes for as long as it likes.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// An event stream: called on the connection's thread once the head is sent.
    public var stream: (@Sendable (HTTPStream) -> Void)?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], stream: (@Sendable (HTTPStream) -> Void)? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
    }

    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: JSONWriter.write(value) + [0x0A])
    }

    /// An error as JSON: `{"error": "..."}`.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(.object(["error": .string(message)]), status: status)
    }

    public static func eventStream(_ body: @escaping @Sendable (HTTPStream) -> Void) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")], stream: body)
    }

    /// Status line and headers; `Content-Length` and `Connection: close` for a complete
    /// response (one request per connection), neither for a stream.
    public func head() -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if stream == nil { text += "Content-Length: \(body.count)\r\nConnection: close\r\n" }
        text += "X-Content-Type-Options: nosniff\r\n\r\n"
        return Array(text.utf8)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
