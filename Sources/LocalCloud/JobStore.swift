import Foundation
import TrackerCore

/// localcloud's jobs on disk: `DIR/jobs/{jobId}/document.json` (the job document) and
/// `DIR/jobs/{jobId}/things/{thing}.json` (that thing's execution), each written atomically.
/// `localcloud job create` writes a job; `localcloud serve` changes executions as devices
/// report; both read what is there at each request, so they never hold stale copies.
public struct JobStore: Sendable {
    public let directory: String

    public enum Failure: Error, CustomStringConvertible {
        case invalid(String)
        case io(String)

        public var description: String {
            switch self {
            case .invalid(let reason), .io(let reason): reason
            }
        }
    }

    public init(directory: String) {
        self.directory = directory
    }

    /// A new job for `things`, each execution QUEUED; its id (given, or made).
    public func create(jobId: String?, document: JSONValue, things: [String], now: Int64) throws(Failure) -> String {
        let id = jobId ?? "job-\(now)-\(UUID().uuidString.prefix(8).lowercased())"
        guard JobRunner.isJobID(id) else { throw .invalid("job id \"\(id)\" must be 1 to 64 of A-Z a-z 0-9 _ -") }
        guard !things.isEmpty else { throw .invalid("a job needs at least one --thing") }
        guard document.bytes.count <= 32 * 1024 else { throw .invalid("a job document is at most 32 KB (AWS IoT Jobs' limit)") }
        guard case .object = document else { throw .invalid("a job document must be a JSON object") }
        guard !FileManager.default.fileExists(atPath: directory + "/" + id) else { throw .invalid("job \(id) already exists") }
        do {
            try FileManager.default.createDirectory(atPath: directory + "/" + id + "/things", withIntermediateDirectories: true)
            try Data(document.bytes).write(to: URL(fileURLWithPath: directory + "/" + id + "/document.json"), options: .atomic)
            for thing in things { try save(JobExecutions.Execution(jobId: id, queuedAt: now), thing: thing) }
        } catch let error as Failure {
            throw error
        } catch {
            throw .io("cannot write job \(id) in \(directory): \(error.localizedDescription)")
        }
        return id
    }

    /// The job ids, oldest first.
    public func jobIds() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: directory + "/" + $0 + "/document.json") }.sorted { a, b in
            created(a) == created(b) ? a < b : created(a) < created(b)
        }
    }

    public func document(_ jobId: String) -> JSONValue? {
        FileManager.default.contents(atPath: directory + "/" + jobId + "/document.json").flatMap { JSONValue.parse(Array($0)) }
    }

    /// Each thing's execution of `jobId`.
    public func executions(of jobId: String) -> [String: JobExecutions.Execution] {
        let dir = directory + "/" + jobId + "/things"
        var out: [String: JobExecutions.Execution] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".json") {
            if let data = FileManager.default.contents(atPath: dir + "/" + name),
               let execution = try? JSONDecoder().decode(JobExecutions.Execution.self, from: data) {
                out[String(name.dropLast(5))] = execution
            }
        }
        return out
    }

    /// Everything one thing has: its executions and their documents.
    public func executions(thing: String) -> JobExecutions {
        var executions: [JobExecutions.Execution] = []
        var documents: [String: JSONValue] = [:]
        for jobId in jobIds() {
            guard let data = FileManager.default.contents(atPath: directory + "/" + jobId + "/things/" + thing + ".json"),
                  let execution = try? JSONDecoder().decode(JobExecutions.Execution.self, from: data) else { continue }
            executions.append(execution)
            documents[jobId] = document(jobId)
        }
        return JobExecutions(thingName: thing, executions: executions, documents: documents)
    }

    public func save(_ execution: JobExecutions.Execution, thing: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(execution).write(to: URL(fileURLWithPath: directory + "/" + execution.jobId + "/things/" + thing + ".json"),
                                             options: .atomic)
    }

    private func created(_ jobId: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: directory + "/" + jobId + "/document.json"))?[.modificationDate] as? Date)
            ?? .distantPast
    }
}
