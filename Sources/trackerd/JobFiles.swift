#if canImport(Glibc)
import Glibc
#endif
import Logging
import TrackerCore
import TrackerStorage

/// The jobs' files in `[jobs] dir` (0700, trackerd's): the ledger (`jobs.json`), each job's
/// download (`{jobId}.download`, resumed across restarts), the zone set a job put in force
/// (`zones.geojson`, read at every start), and what passes between trackerd and the root-owned
/// update unit (`install/`: the verified package and its request; `install-result.json`: why an
/// install did not happen).
struct JobFiles: Sendable {
    let directory: String

    var ledger: JSONStateFile<JobLedger> { JSONStateFile(path: directory + "/jobs.json", name: "the jobs' ledger") }
    var installResult: JSONStateFile<JobRunner.InstallResult> {
        JSONStateFile(path: directory + "/install-result.json", name: "the update unit's result")
    }
    var zones: String { directory + "/zones.geojson" }
    func download(_ jobId: String) -> String { directory + "/" + jobId + ".download" }
    var installDirectory: String { directory + "/install" }

    func prepare() throws {
        try CredentialStore.ensureDirectory(directory)
    }

    /// The zones of a zone-set file, or why they cannot be used.
    static func readZones(_ path: String) -> Result<[Zone], JobRejection> {
        let bytes: [UInt8]
        do {
            guard let read = try CredentialStore.read(path) else { return .failure(JobRejection("\(path) is missing")) }
            bytes = read
        } catch {
            return .failure(JobRejection("\(error)"))
        }
        switch GeofenceCollection.parse(bytes) {
        case .success(let configs):
            return .success(configs.compactMap { $0.zone() })
        case .failure(let invalid):
            let first = invalid.problems.prefix(3).map { "\($0.path.isEmpty ? "the file" : $0.path): \($0.problem)" }.joined(separator: "; ")
            return .failure(JobRejection("the zone set has \(invalid.problems.count) problems: \(first)"))
        }
    }

    /// The job's verified zone set becomes the one kept for the next start (one rename).
    func keepZones(_ jobId: String, logger: Logger) {
        if rename(download(jobId), zones) != 0 {
            logger.error("cannot keep the zone set of job \(jobId) as \(zones): \(String(cString: strerror(errno)))")
        }
    }

    /// The verified package and a request naming it, for the update unit (its path unit wakes on
    /// the request); the request is written last, atomically.
    func requestInstall(_ jobId: String, version: String) throws {
        try CredentialStore.ensureDirectory(installDirectory)
        let package = installDirectory + "/" + jobId + ".deb"
        guard rename(download(jobId), package) == 0 else {
            throw JobRejection("cannot move the package to \(package): \(String(cString: strerror(errno)))")
        }
        let request = JSONValue.object(["jobId": .string(jobId), "version": .string(version), "package": .string(package)])
        try CredentialStore.write(request.bytes, to: installDirectory + "/request.json", mode: 0o644)
    }

    func remove(_ jobId: String) {
        unlink(download(jobId))
    }
}
