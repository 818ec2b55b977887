import CTestSupport
import Foundation
import SystemPackage

/// A real pty pair: the test writes a receiver's bytes into the master, the code under test
/// opens the slave as it would open /dev/ttyUSB0.
public final class PseudoTerminal: Sendable {
    public let master: Int32
    public let slavePath: String

    public struct PTYError: Error { public let call: String; public let errno: Int32 }

    public init() throws {
        var name = [CChar](repeating: 0, count: 128)
        let fd = trackerd_test_open_pty(&name, name.count)
        guard fd >= 0 else { throw PTYError(call: "posix_openpt", errno: errno) }
        master = fd
        slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes everything (blocking while the slave's input queue is full).
    public func write(_ bytes: [UInt8]) {
        _ = try? FileDescriptor(rawValue: master).writeAll(bytes)
    }

    /// Unplugs the "receiver": the slave side sees EIO/hang-up.
    public func close() { Glibc.close(master) }
}
