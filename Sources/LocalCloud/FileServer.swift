import CFileServer

/// `localcloud serve`'s HTTPS file server: DIR/files/ on 127.0.0.1, with the broker's
/// certificate (localcloud's CA), byte ranges for resumed downloads, and an optional rate so a
/// test can cut a download half way. A job document points devices at `url(for:)`.
public final class FileServer: Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    public let port: Int
    private let handle: Int32

    public init(root: String, port: Int, certificate: String, key: String, bytesPerSecond: Int = 0) throws(StartError) {
        var error = [CChar](repeating: 0, count: 512)
        let handle = localcloud_file_server_start(root, Int32(port), certificate, key, bytesPerSecond, &error, error.count)
        guard handle >= 0 else {
            throw StartError(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.port = port
        self.handle = handle
    }

    public func url(for name: String) -> String { "https://localhost:\(port)/\(name)" }

    public func stop() { localcloud_file_server_stop(handle) }
}
