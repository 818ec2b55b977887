/// Codable values to JSON text and back, without Foundation: compact, keys sorted, '/' not
/// escaped (`JSONWriter`); strict RFC 8259 on the way in (`JSONParser`). The daemon's state
/// files, its status, AWS's provisioning messages and the shadow's documents all go through it.
public enum JSONCodec {
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        JSONWriter.write(try JSONTreeEncoder.encode(value))
    }

    /// Indented, for a file an operator reads.
    public static func encodePretty(_ value: some Encodable) throws -> [UInt8] {
        JSONWriter.writePretty(try JSONTreeEncoder.encode(value))
    }

    /// Throws `JSONSyntaxError` for text that is not JSON, `DecodingError` for JSON of the wrong shape.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONTreeDecoder.decode(type, from: JSONParser.parse(bytes), codingPath: [])
    }
}
