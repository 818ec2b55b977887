import Foundation

/// A real small file system for full-disk tests: a tmpfs of `size` mounted at `path` (root
/// only, as in CI), and a filler file that takes all of its free space until `free()`.
public struct SmallTmpfs: Sendable {
    public let path: String
    public var filler: String { path + "/filler" }

    public init(at path: String, size: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path]) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot mount a tmpfs at \(path)"])
        }
    }

    /// Writes the filler until the file system says ENOSPC.
    public func fill() {
        guard let handle = FileHandle(forWritingAtPath: filler) ?? {
            _ = FileManager.default.createFile(atPath: filler, contents: nil)
            return FileHandle(forWritingAtPath: filler)
        }() else { return }
        let block = Data(repeating: 0, count: 4096)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
    }

    public func free() { try? FileManager.default.removeItem(atPath: filler) }

    public func unmount() { _ = Self.run("/bin/umount", [path]) }

    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
