/// The board's own identity, for a device id nobody configured: the SoC serial number that
/// Raspberry Pi firmware exposes in the device tree, else systemd's machine id (unique per
/// installation, present on every Debian system).
public enum BoardSerialNumber {
    public static let deviceTreePath = "/proc/device-tree/serial-number"
    public static let machineIDPath = "/etc/machine-id"

    /// The first non-empty of the files, trimmed of NULs and whitespace; nil if none can be read.
    public static func read(paths: [String] = [deviceTreePath, machineIDPath]) -> String? {
        for path in paths {
            guard let bytes = try? FileReader.readAll(path) else { continue }
            let text = String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self)
                .trimmingWhitespace()
            if !text.isEmpty { return text }
        }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
