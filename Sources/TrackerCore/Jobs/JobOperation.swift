/// What a job document asks of the tracker (its `operation`), checked before anything is
/// downloaded: a document the tracker cannot carry out is REJECTED with the reason.
public enum JobOperation: Sendable, Equatable, Codable {
    /// `install-package`: a trackerd .deb at an HTTPS `url`, `size` bytes with this `sha256`,
    /// which is `version` once installed.
    case installPackage(url: String, sha256: String, size: Int64, version: String)
    /// `update-geofences`: a GeoJSON FeatureCollection of any size at an HTTPS `url`.
    case updateGeofences(url: String, sha256: String)
    /// `rotate-certificate`: a new key and certificate now, whatever the expiry (a suspected
    /// compromise, a CA rotation).
    case rotateCertificate

    public static let operations = ["install-package", "update-geofences", "rotate-certificate"]
    /// A package larger than this is not a trackerd build.
    public static let maxPackageBytes: Int64 = 256 * 1024 * 1024

    public var name: String {
        switch self {
        case .installPackage: "install-package"
        case .updateGeofences: "update-geofences"
        case .rotateCertificate: "rotate-certificate"
        }
    }

    /// The file to fetch; "" for an operation without one.
    public var url: String {
        switch self {
        case .installPackage(let url, _, _, _), .updateGeofences(let url, _): url
        case .rotateCertificate: ""
        }
    }

    public var sha256: String {
        switch self {
        case .installPackage(_, let sha256, _, _), .updateGeofences(_, let sha256): sha256
        case .rotateCertificate: ""
        }
    }

    /// The expected size, when the document gives one.
    public var size: Int64? {
        if case .installPackage(_, _, let size, _) = self { size } else { nil }
    }

    /// The operation of a job document, or why the tracker cannot carry it out.
    public static func parse(_ document: JSONValue?) -> Result<JobOperation, JobRejection> {
        guard case .object(let fields)? = document else { return .failure(JobRejection("the job document must be a JSON object")) }
        guard case .string(let operation)? = fields["operation"] else {
            return .failure(JobRejection("the job document has no operation; this tracker does " + operations.joined(separator: ", ")))
        }
        guard operations.contains(operation) else {
            return .failure(JobRejection("unknown operation \"\(operation)\"; this tracker does " + operations.joined(separator: ", ")))
        }
        if operation == "rotate-certificate" { return .success(.rotateCertificate) }
        func text(_ key: String) -> String? { if case .string(let value)? = fields[key] { value } else { nil } }
        guard let url = text("url"), url.hasPrefix("https://"), url.utf8.count > 8, url.utf8.count <= 4096,
              !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return .failure(JobRejection("\(operation): url must be an https:// address"))
        }
        guard let sha256 = text("sha256")?.lowercased(), sha256.utf8.count == 64,
              sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            return .failure(JobRejection("\(operation): sha256 must be 64 hexadecimal digits"))
        }
        switch operation {
        case "install-package":
            guard case .number(let number)? = fields["size"], number.rounded() == number, number > 0,
                  number <= Double(maxPackageBytes) else {
                return .failure(JobRejection("install-package: size must be the package's size in bytes (1 to \(maxPackageBytes))"))
            }
            // Debian's version syntax, as dpkg would check it.
            guard let version = text("version"), !version.isEmpty, version.utf8.count <= 128,
                  version.utf8.first.map({ (0x30...0x39).contains($0) }) == true,
                  version.utf8.allSatisfy({ b in
                      (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || ".+-~:".utf8.contains(b)
                  }) else {
                return .failure(JobRejection("install-package: version must be the package's Debian version (e.g. 0.2.0)"))
            }
            return .success(.installPackage(url: url, sha256: sha256, size: Int64(number), version: version))
        case "update-geofences":
            return .success(.updateGeofences(url: url, sha256: sha256))
        default:
            return .failure(JobRejection("unknown operation \"\(operation)\"; this tracker does " + operations.joined(separator: ", ")))
        }
    }
}

/// Why a job is not carried out, for its REJECTED or FAILED status.
public struct JobRejection: Error, Sendable, Equatable {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }
}
