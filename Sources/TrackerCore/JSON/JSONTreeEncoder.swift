/// Swift's `Encoder` that builds a `JSONValue` (what `JSONCodec.encode` writes). Containers
/// are handed out before their contents are known, so the tree is built from reference nodes
/// and resolved into values at the end.
final class JSONTreeEncoder: Encoder {
    /// One value under construction.
    final class Node {
        enum Contents {
            case unset
            case value(JSONValue)
            case object([String: Node])
            case array([Node])
        }

        var contents: Contents = .unset

        var value: JSONValue {
            switch contents {
            // A value asked for and never given: Foundation writes an empty object too.
            case .unset: .object([:])
            case .value(let value): value
            case .object(let members): .object(members.mapValues(\.value))
            case .array(let elements): .array(elements.map(\.value))
            }
        }

        // `contents` is emptied while its dictionary or array grows: otherwise the enum keeps a
        // second reference and every member copies the whole collection (a 10,000-zone
        // snapshot took quadratic time).
        func member(_ key: String) -> Node {
            let node = Node()
            guard case .object(var members) = contents else {
                contents = .object([key: node])
                return node
            }
            contents = .unset
            members[key] = node
            contents = .object(members)
            return node
        }

        func append() -> Node {
            let node = Node()
            guard case .array(var elements) = contents else {
                contents = .array([node])
                return node
            }
            contents = .unset
            elements.append(node)
            contents = .array(elements)
            return node
        }
    }

    /// Where a value sits, made into a `codingPath` only when one is asked for (an error):
    /// building the array for every value encoded was most of the encoder's work.
    final class PathLink {
        let parent: PathLink?
        let key: any CodingKey

        init(_ parent: PathLink?, _ key: any CodingKey) {
            self.parent = parent
            self.key = key
        }

        static func path(_ link: PathLink?) -> [any CodingKey] {
            var keys: [any CodingKey] = []
            var link = link
            while let current = link {
                keys.append(current.key)
                link = current.parent
            }
            return keys.reversed()
        }
    }

    let node: Node
    let link: PathLink?
    var codingPath: [any CodingKey] { PathLink.path(link) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: Node = Node(), link: PathLink? = nil) {
        self.node = node
        self.link = link
    }

    static func encode(_ value: some Encodable) throws -> JSONValue {
        let encoder = JSONTreeEncoder()
        try encode(value, into: encoder.node, link: nil)
        return encoder.node.value
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.contents {} else { node.contents = .object([:]) }
        return KeyedEncodingContainer(Keyed<Key>(node: node, link: link))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.contents {} else { node.contents = .array([]) }
        return Slot(node: node, link: link, appends: true)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        Slot(node: node, link: link, appends: false)
    }

    fileprivate static func number(_ value: Double, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> JSONValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath(), debugDescription: "JSON has no \(value)"))
        }
        return .number(value)
    }

    fileprivate static func integer<T: BinaryInteger>(_ value: T, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> JSONValue {
        // A Double holds every integer up to 2^53 exactly; beyond that the number would change.
        guard value.magnitude <= 9_007_199_254_740_992 else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath(), debugDescription: "\(value) is beyond 2^53"))
        }
        return .number(Double(value))
    }

    fileprivate static func encode(_ value: some Encodable, into node: Node, link: PathLink?) throws {
        // A document inside a record (a shadow's state) is taken whole, not taken apart.
        if let document = value as? JSONValue {
            node.contents = .value(document)
            return
        }
        try value.encode(to: JSONTreeEncoder(node: node, link: link))
    }

    private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let link: PathLink?
        var codingPath: [any CodingKey] { PathLink.path(link) }

        private func set(_ value: JSONValue, _ key: Key) {
            node.member(key.stringValue).contents = .value(value)
        }

        mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { set(try JSONTreeEncoder.number(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { set(try JSONTreeEncoder.number(Double(value), PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { set(try JSONTreeEncoder.integer(value, PathLink.path(PathLink(link, key))), key) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONTreeEncoder.encode(value, into: node.member(key.stringValue), link: PathLink(link, key))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = node.member(key.stringValue)
            child.contents = .object([:])
            return KeyedEncodingContainer(Keyed<NestedKey>(node: child, link: PathLink(link, key)))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = node.member(key.stringValue)
            child.contents = .array([])
            return Slot(node: child, link: PathLink(link, key), appends: true)
        }

        mutating func superEncoder() -> any Encoder {
            JSONTreeEncoder(node: node.member("super"), link: link)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            JSONTreeEncoder(node: node.member(key.stringValue), link: PathLink(link, key))
        }
    }

    /// The unkeyed and the single-value container in one: their requirements have the same
    /// signatures, and only where a value goes differs (a new element, or the node itself).
    private struct Slot: UnkeyedEncodingContainer, SingleValueEncodingContainer {
        let node: Node
        let link: PathLink?
        var codingPath: [any CodingKey] { PathLink.path(link) }
        /// An array's container: each value is a new element.
        let appends: Bool

        var count: Int {
            if case .array(let elements) = node.contents { elements.count } else { 0 }
        }

        private func place() -> Node { appends ? node.append() : node }

        private func put(_ value: JSONValue) {
            place().contents = .value(value)
        }

        mutating func encodeNil() throws { put(.null) }
        mutating func encode(_ value: Bool) throws { put(.bool(value)) }
        mutating func encode(_ value: String) throws { put(.string(value)) }
        mutating func encode(_ value: Double) throws { put(try JSONTreeEncoder.number(value, codingPath)) }
        mutating func encode(_ value: Float) throws { put(try JSONTreeEncoder.number(Double(value), codingPath)) }
        mutating func encode(_ value: Int) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: Int8) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: Int16) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: Int32) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: Int64) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: UInt) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: UInt8) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: UInt16) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: UInt32) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }
        mutating func encode(_ value: UInt64) throws { put(try JSONTreeEncoder.integer(value, codingPath)) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONTreeEncoder.encode(value, into: place(), link: link)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = place()
            child.contents = .object([:])
            return KeyedEncodingContainer(Keyed<NestedKey>(node: child, link: link))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = place()
            child.contents = .array([])
            return Slot(node: child, link: link, appends: true)
        }

        mutating func superEncoder() -> any Encoder {
            JSONTreeEncoder(node: place(), link: link)
        }
    }
}
