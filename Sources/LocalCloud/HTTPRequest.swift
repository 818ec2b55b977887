import Foundation

/// The head of an HTTP/1.1 request as localcloud's web server takes it: the method, the path in
/// decoded segments (so `%2F` inside a thing's name is not a separator), the query and the
/// headers (names lowercased). Bodies are not read: the server answers GET and HEAD only.
public struct HTTPRequest: Sendable, Equatable {
    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self {
            case .malformed(let reason): "bad request: \(reason)"
            }
        }
    }

    /// A head longer than this is refused (a browser's is under 2 KiB).
    public static let maximumHeadSize = 16 * 1024

    public var method: String
    public var segments: [String]
    public var query: [String: String]
    public var headers: [String: String]

    public var path: String { "/" + segments.joined(separator: "/") }

    public init(method: String, segments: [String], query: [String: String] = [:], headers: [String: String] = [:]) {
        self.method = method
        self.segments = segments
        self.query = query
        self.headers = headers
    }

    /// `head`: the bytes up to the blank line (CR LF or bare LF line ends).
    public init(head: [UInt8]) throws(Invalid) {
        // Split as bytes: in a String, CR LF is one Character and no "\n" separator.
        let lines = head.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { Substring(String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self)) }
        let requestLine = lines.first?.split(separator: " ", omittingEmptySubsequences: true) ?? []
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1."), requestLine[0].allSatisfy({ $0.isLetter && $0.isUppercase }) else {
            throw .malformed("the request line is not METHOD TARGET HTTP/1.x")
        }
        method = String(requestLine[0])
        let target = requestLine[1]
        guard target.hasPrefix("/") else { throw .malformed("the target is not a path") }
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var segments: [String] = []
        for raw in parts[0].split(separator: "/", omittingEmptySubsequences: true) {
            guard let segment = Self.percentDecoded(raw, plusIsSpace: false) else { throw .malformed("a bad %-escape in the path") }
            guard segment != "..", segment != "." else { throw .malformed("dot segments in the path") }
            segments.append(segment)
        }
        self.segments = segments
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = Self.percentDecoded(kv[0], plusIsSpace: true),
                      let value = Self.percentDecoded(kv.count == 2 ? kv[1] : "", plusIsSpace: true) else {
                    throw .malformed("a bad %-escape in the query")
                }
                query[key] = value
            }
        }
        self.query = query
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"), colon > line.startIndex else { throw .malformed("a header line without a name") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
    }

    /// nil for a `%` not followed by two hex digits, or bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
