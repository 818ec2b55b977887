#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMosquitto
import CTLSProbe

/// Turns a failed connection into one journal line an operator can act on: DNS, refused,
/// unreachable, and for TLS the exact reason (unknown CA, expired or not-yet-valid
/// certificate, host name mismatch, system clock not set, our certificate refused).
public enum ConnectionDiagnosis {
    /// Certificates are never valid before this (2024-01-01): an earlier clock was never set.
    static let clockSanityFloor: Int64 = 1_704_067_200

    /// Why `mosquitto_connect` or `mosquitto_loop` failed with `code`.
    static func explain(code: Int32, errno savedErrno: Int32, settings: MQTTSettings, problems: [String],
                        refusal: String?) -> String {
        if let refusal { return refusal }
        let endpoint = settings.endpoint
        switch code {
        case Int32(MOSQ_ERR_EAI.rawValue):
            return "cannot resolve \(settings.host): DNS lookup failed (check [mqtt] endpoint and the network)"
        case Int32(MOSQ_ERR_ERRNO.rawValue):
            switch savedErrno {
            case ECONNREFUSED: return "connection refused by \(endpoint): nothing listens there (is the broker running?)"
            case ETIMEDOUT: return "connection to \(endpoint) timed out (network down or filtered?)"
            case EHOSTUNREACH, ENETUNREACH: return "\(endpoint) is unreachable: \(String(cString: strerror(savedErrno)))"
            case ENOENT, EACCES:
                return "cannot read the TLS files (\(settings.caFile), \(settings.certFile), \(settings.keyFile)): \(String(cString: strerror(savedErrno)))"
            case 0: break
            default: return "connection to \(endpoint) failed: \(String(cString: strerror(savedErrno)))"
            }
        default:
            break
        }
        let tlsProblem = problems.contains { $0.contains("OpenSSL") || $0.contains("SSL") || $0.contains("TLS") }
        if code == Int32(MOSQ_ERR_TLS.rawValue) || tlsProblem || code == Int32(MOSQ_ERR_CONN_LOST.rawValue) {
            return probeTLS(settings: settings, fallback: problems.last)
        }
        let message = mosquitto_strerror(code).map { String(cString: $0) } ?? "error \(code)"
        return "connection to \(endpoint) failed: \(message)" + (problems.last.map { " (\($0))" } ?? "")
    }

    /// A diagnostic handshake of our own, with the same files, to learn what libmosquitto only
    /// reports as "certificate verify failed".
    static func probeTLS(settings: MQTTSettings, fallback: String?) -> String {
        var verifyError = 0
        var detail = [CChar](repeating: 0, count: 256)
        // A key in a token is not a file the probe can load: it checks the broker's side alone.
        let result = trackerd_tls_probe(settings.host, Int32(settings.port), settings.caFile,
                                        settings.keyIsInToken ? nil : settings.certFile, settings.keyIsInToken ? nil : settings.keyFile,
                                        settings.alpn, 3000, &verifyError, &detail, detail.count)
        let text = String(nulTerminated: detail)
        let endpoint = settings.endpoint
        switch Int(result) {
        case Int(TRACKERD_TLS_VERIFY_FAILED.rawValue):
            return explainVerify(verifyError, text, settings: settings)
        case Int(TRACKERD_TLS_PEER_REJECTED.rawValue), Int(TRACKERD_TLS_HANDSHAKE_FAILED.rawValue):
            if let ours = clientCertificateProblem(settings) { return ours }
            let alert = text.isEmpty ? "connection closed" : text
            if alert.contains("alert") || alert.contains("certificate") || result == TRACKERD_TLS_PEER_REJECTED.rawValue {
                return "TLS: the broker at \(endpoint) refused our client certificate \(settings.certFile) (\(alert)): "
                    + "is it signed by a CA the broker trusts, and still registered?"
            }
            return "TLS handshake with \(endpoint) failed: \(alert)"
        case Int(TRACKERD_TLS_SETUP_FAILED.rawValue):
            return "TLS setup failed: \(text)"
        case Int(TRACKERD_TLS_CONNECT_FAILED.rawValue):
            return "connection to \(endpoint) failed: \(text)"
        default:
            if let ours = clientCertificateProblem(settings) { return ours }
            return "connection to \(endpoint) lost during setup" + (fallback.map { ": \($0)" } ?? "")
        }
    }

    static func explainVerify(_ code: Int, _ text: String, settings: MQTTSettings) -> String {
        let endpoint = settings.endpoint
        switch code {
        case 18, 19, 20, 21, 2:
            return "TLS: the broker's certificate at \(endpoint) is not signed by the CA in \(settings.caFile) (unknown CA: \(text))"
        case 10:
            return "TLS: the broker's certificate at \(endpoint) has expired (\(text))"
        case 9:
            if now() < clockSanityFloor {
                return "TLS: the system clock is not set (it reads \(readableNow())), so the broker's certificate looks not yet valid; "
                    + "certificates cannot be checked until time is synchronised (NTP, or GPS time)"
            }
            return "TLS: the broker's certificate at \(endpoint) is not yet valid (\(text)); is the system clock right? It reads \(readableNow())"
        case 62, 64:
            return "TLS: the broker's certificate does not name \(settings.host) (host name mismatch): check [mqtt] endpoint"
        default:
            return "TLS: the broker's certificate at \(endpoint) was rejected: \(text) (X509 error \(code))"
        }
    }

    /// Our own certificate judged against the clock, before blaming the broker.
    public static func clientCertificateProblem(_ settings: MQTTSettings, now current: Int64 = now()) -> String? {
        var notBefore: Int64 = 0, notAfter: Int64 = 0
        guard trackerd_certificate_validity(settings.certFile, &notBefore, &notAfter) == 0 else {
            return access(settings.certFile, R_OK) == 0 ? nil
                : "cannot read the client certificate \(settings.certFile): \(String(cString: strerror(errno)))"
        }
        if current < notBefore {
            if current < clockSanityFloor {
                return "TLS: the system clock is not set (it reads \(readable(current))); our certificate is valid only from "
                    + "\(readable(notBefore)). Waiting for time synchronisation (NTP, or GPS time)"
            }
            return "TLS: our client certificate \(settings.certFile) is not valid before \(readable(notBefore)) (clock reads \(readable(current)))"
        }
        if current > notAfter {
            return "TLS: our client certificate \(settings.certFile) expired on \(readable(notAfter))"
        }
        return nil
    }

    public static func now() -> Int64 { Int64(time(nil)) }

    static func readable(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(nulTerminated: buffer)
    }

    static func readableNow() -> String { readable(now()) }
}

extension String {
    /// The text of a NUL-terminated C buffer.
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
