#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
/// The board's first network MAC address (by interface name, loopback and all-zero ones
/// skipped), for the `{mac}` provisioning parameter.
public enum BoardMACAddress {
    public static func read(sysClassNet: String = "/sys/class/net") -> String? {
        guard let directory = opendir(sysClassNet) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." && name != "lo" { names.append(name) }
        }
        for name in names.sorted() {
            guard let bytes = try? FileReader.readAll(sysClassNet + "/" + name + "/address") else { continue }
            let address = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
            if address.count == 17 && address != "00:00:00:00:00:00" { return address }
        }
        return nil
    }
}
