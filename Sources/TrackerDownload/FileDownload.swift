#if canImport(Glibc)
import Glibc
#endif
import CDownload
import TrackerCore
import TrackerCrypto
import TrackerSystem

/// A job's file fetched over HTTPS (libcurl) into a partial file that survives a restart:
/// each attempt resumes after what the file already holds; transient failures are retried with
/// full-jitter backoff; the result is the file's size and SHA-256, for the job to check.
///
/// Blocking: run it on a thread of its own (`ReaderThread`), stop it with the `StopFlag`.
public struct FileDownload: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The server refused or the address is unusable (retrying cannot help).
        case refused(String)
        /// Every attempt failed.
        case gaveUp(attempts: Int, last: String)
        /// The file cannot be written here.
        case local(String)
        case stopped

        public var description: String {
            switch self {
            case .refused(let reason): reason
            case .gaveUp(let attempts, let last): "\(attempts) attempts failed, the last: \(last)"
            case .local(let reason): reason
            case .stopped: "stopped"
            }
        }
    }

    public let url: String
    /// The CAs to trust (nil: the system's).
    public let caFile: String?
    /// The partial file; complete when `run` succeeds.
    public let path: String
    public var attempts = 10
    public var backoff = Backoff(base: .seconds(2), cap: .seconds(300))
    /// Under a byte a second for this long is a failed attempt.
    public var stallSeconds = 60

    public init(url: String, caFile: String?, path: String) {
        self.url = url
        self.caFile = caFile
        self.path = path
    }

    /// `progress`: bytes in the file so far and the total when known, as the transfer goes.
    public func run(stop: StopFlag, progress: @escaping @Sendable (Int64, Int64?) -> Void) -> Result<(size: Int64, sha256: String), Failure> {
        let reporter = ProgressReporter(stop: stop, progress: progress)
        var backoff = self.backoff
        var last = ""
        var attempt = 0
        while attempt < attempts {
            attempt += 1
            var status = 0
            var detail = [CChar](repeating: 0, count: 512)
            let result = withExtendedLifetime(reporter) {
                trackerd_download(url, caFile, path, stallSeconds, { context, bytes, total in
                    // The one place libcurl's callback enters Swift.
                    guard let context else { return 1 }
                    let reporter = Unmanaged<ProgressReporter>.fromOpaque(context).takeUnretainedValue()
                    return reporter.report(bytes, total)
                }, Unmanaged.passUnretained(reporter).toOpaque(), &status, &detail, detail.count)
            }
            last = String(decoding: detail.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            switch Int(result) {
            case Int(TRACKERD_DOWNLOAD_OK.rawValue):
                do {
                    let digest = try FileDigest.sha256(of: path)
                    return .success((digest.size, digest.sha256))
                } catch {
                    return .failure(.local("\(error)"))
                }
            case Int(TRACKERD_DOWNLOAD_REFUSED.rawValue):
                return .failure(.refused(status > 0 ? "HTTP \(status): \(last)" : last))
            case Int(TRACKERD_DOWNLOAD_LOCAL.rawValue):
                return .failure(.local(last))
            case Int(TRACKERD_DOWNLOAD_ABORTED.rawValue):
                return .failure(.stopped)
            case Int(TRACKERD_DOWNLOAD_RESTART.rawValue):
                // The server will not resume this file: start again from nothing (not an attempt
                // lost). A part that cannot be cut would have the new file appended to it.
                if truncate(path, 0) != 0 && errno != ENOENT {
                    return .failure(.local("cannot restart the download into \(path): \(String(cString: strerror(errno)))"))
                }
                attempt -= 1
                if stop.isSet { return .failure(.stopped) }
                continue
            default:
                break
            }
            if stop.isSet { return .failure(.stopped) }
            if attempt < attempts, !stop.sleep(backoff.nextDelay()) { return .failure(.stopped) }
        }
        return .failure(.gaveUp(attempts: attempts, last: last))
    }
}

/// What libcurl's progress callback reaches: the stop flag and the caller's closure.
final class ProgressReporter: Sendable {
    let stop: StopFlag
    let progress: @Sendable (Int64, Int64?) -> Void

    init(stop: StopFlag, progress: @escaping @Sendable (Int64, Int64?) -> Void) {
        self.stop = stop
        self.progress = progress
    }

    func report(_ bytes: Int64, _ total: Int64) -> Int32 {
        progress(bytes, total > 0 ? total : nil)
        return stop.isSet ? 1 : 0
    }
}
