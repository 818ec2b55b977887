/// An RFC 7512 PKCS#11 URI naming a key in a token, as a configuration names it
/// (`pkcs11:token=trackerd;object=device`) and as the credential store records the one key it
/// made (`...;id=%4A%0F...;type=private`).
///
/// Only what trackerd needs is understood: the path attributes of RFC 7512 section 2.3 (a
/// vendor's `x-` ones are kept), the query's `module-path` and `pin-source`. A PIN in the URI
/// (`pin-value`) is refused: the URI is in a world-readable file and in the log.
public struct PKCS11URI: Sendable, Equatable, CustomStringConvertible {
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notPKCS11
        case badEscape(String)
        case unknownAttribute(String)
        case repeated(String)
        case pinInURI
        case noToken
        case noObject
        case notAPrivateKey(String)

        public var description: String {
            switch self {
            case .notPKCS11: "is not a PKCS#11 URI (it must start with \"pkcs11:\")"
            case .badEscape(let text): "has a bad %-escape in \"\(text)\""
            case .unknownAttribute(let name): "has the attribute \"\(name)\", which RFC 7512 does not define"
            case .repeated(let name): "names \"\(name)\" twice"
            case .pinInURI: "holds a PIN (pin-value): put the PIN in [credentials] pin_file (mode 0600) instead"
            case .noToken: "names no token: add token=LABEL (the token's label)"
            case .noObject: "names no key: add object=LABEL (the key's label in the token)"
            case .notAPrivateKey(let type): "names type=\(type); a key URI is type=private or has no type"
            }
        }
    }

    static let pathAttributes: Set<String> = [
        "token", "manufacturer", "serial", "model", "library-manufacturer", "library-description", "library-version",
        "object", "type", "id", "slot-description", "slot-manufacturer", "slot-id",
    ]
    static let queryAttributes: Set<String> = ["module-name", "module-path", "pin-source"]

    /// The token's label.
    public var token: String
    /// The key's label (CKA_LABEL).
    public var object: String
    /// CKA_ID, when the URI names one key exactly.
    public var id: [UInt8]?
    /// The other path attributes, in their order, decoded.
    public var otherAttributes: [(name: String, value: String)] = []
    public var modulePath: String?
    public var pinSource: String?

    public init(token: String, object: String, id: [UInt8]? = nil) {
        self.token = token
        self.object = object
        self.id = id
    }

    public static func == (a: PKCS11URI, b: PKCS11URI) -> Bool {
        a.description == b.description
    }

    /// Whether `text` is meant as a URI rather than a file path (for the error to name).
    public static func looksLikeURI(_ text: String) -> Bool { text.hasPrefix("pkcs11:") }

    public init(parsing text: String) throws(ParseError) {
        guard text.hasPrefix("pkcs11:") else { throw .notPKCS11 }
        let rest = text.dropFirst("pkcs11:".count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var seen = Set<String>()
        var token: String?, object: String?, id: [UInt8]?
        var others: [(String, String)] = []
        for attribute in parts[0].split(separator: ";") {
            let (name, raw) = Self.split(attribute)
            guard Self.pathAttributes.contains(name) || name.hasPrefix("x-") else { throw .unknownAttribute(name) }
            guard seen.insert(name).inserted else { throw .repeated(name) }
            let bytes = try Self.decode(raw)
            switch name {
            case "token": token = String(decoding: bytes, as: UTF8.self)
            case "object": object = String(decoding: bytes, as: UTF8.self)
            case "id": id = bytes
            case "type":
                let type = String(decoding: bytes, as: UTF8.self)
                guard type == "private" else { throw .notAPrivateKey(type) }
            default: others.append((name, String(decoding: bytes, as: UTF8.self)))
            }
        }
        var modulePath: String?, pinSource: String?
        if parts.count == 2 {
            for attribute in parts[1].split(separator: "&") {
                let (name, raw) = Self.split(attribute)
                if name == "pin-value" { throw .pinInURI }
                guard Self.queryAttributes.contains(name) || name.hasPrefix("x-") else { throw .unknownAttribute(name) }
                guard seen.insert(name).inserted else { throw .repeated(name) }
                let value = String(decoding: try Self.decode(raw), as: UTF8.self)
                if name == "module-path" { modulePath = value }
                if name == "pin-source" { pinSource = value }
            }
        }
        guard let token, !token.isEmpty else { throw .noToken }
        guard let object, !object.isEmpty else { throw .noObject }
        self.token = token
        self.object = object
        self.id = id
        otherAttributes = others
        self.modulePath = modulePath
        self.pinSource = pinSource
    }

    /// The same key with CKA_ID `id`: the URI of one key the device made.
    public func with(id: [UInt8]) -> PKCS11URI {
        var copy = self
        copy.id = id
        return copy
    }

    /// The URI without its query, `type=private` added: what OpenSSL's pkcs11 engine loads.
    public var keyURI: String {
        var path = ["token=" + Self.encode(Array(token.utf8)), "object=" + Self.encode(Array(object.utf8))]
        path += otherAttributes.map { $0.name + "=" + Self.encode(Array($0.value.utf8)) }
        if let id { path.append("id=" + id.map { "%" + Self.hex($0) }.joined()) }
        path.append("type=private")
        return "pkcs11:" + path.joined(separator: ";")
    }

    public var description: String {
        var query: [String] = []
        if let modulePath { query.append("module-path=" + Self.encode(Array(modulePath.utf8), query: true)) }
        if let pinSource { query.append("pin-source=" + Self.encode(Array(pinSource.utf8), query: true)) }
        return keyURI + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    private static func split(_ attribute: Substring) -> (String, Substring) {
        guard let equals = attribute.firstIndex(of: "=") else { return (String(attribute), "") }
        return (String(attribute[..<equals]), attribute[attribute.index(after: equals)...])
    }

    private static func decode(_ text: Substring) throws(ParseError) -> [UInt8] {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "%") else { out.append(byte); continue }
            guard bytes.count >= 2, let high = hexValue(bytes.removeFirst()), let low = hexValue(bytes.removeFirst()) else {
                throw .badEscape(String(text))
            }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    /// RFC 7512's pk11-pchar (path) or pk11-qchar (query, where "/" may stand as it is).
    private static func encode(_ bytes: [UInt8], query: Bool = false) -> String {
        var out = ""
        for byte in bytes {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-._~:[]@!$'()*+,".utf8.contains(byte) || (query && byte == UInt8(ascii: "/"))
            out += plain ? String(UnicodeScalar(byte)) : "%" + hex(byte)
        }
        return out
    }
}
