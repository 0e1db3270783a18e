internal import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// A libcurl or system call of the upstream client that failed, translated from its C error
/// convention: a `CURLcode` (easy calls, a finished transfer), a `CURLMcode` (multi calls),
/// a `CURLSHcode` (share calls), or -1 with `errno` (descriptor calls). The `check` functions below are the only place in
/// this module where those conventions are read; every result goes through them.
struct UpstreamCallError: Error, Equatable, CustomStringConvertible {
    enum Code: Equatable {
        case easy(CURLcode)
        case multi(CURLMcode)
        case share(CURLSHcode)
        case system(errno: Int32)
    }

    let code: Code
    /// The C function that failed (or "transfer" for a transfer's final result).
    let call: String
    /// libcurl's detail text from CURLOPT_ERRORBUFFER (names host and port at most, never
    /// header values); empty when it gave none.
    var detail = ""

    /// `detail` when libcurl gave one, else the code's standard text.
    var message: String {
        if !detail.isEmpty { return detail }
        switch code {
        case .easy(let c): return String(cString: curl_easy_strerror(c))
        case .multi(let c): return String(cString: curl_multi_strerror(c))
        case .share(let c): return String(cString: curl_share_strerror(c))
        case .system(let e): return String(cString: strerror(e))
        }
    }

    var description: String { "\(call): \(message)" }

    /// What went wrong, independent of which call reported it.
    var kind: UpstreamFailureKind {
        switch code {
        case .system(let e):
            return e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS ? .resourceExhausted : .internalError
        case .multi(let c):
            switch c {
            case CURLM_OUT_OF_MEMORY: return .resourceExhausted
            default: return .internalError  // bad handle, bad socket, recursive call, unknown option
            }
        case .share(let c):
            return c == CURLSHE_NOMEM ? .resourceExhausted : .internalError
        case .easy(let c):
            switch c {
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
                return .unresolvable
            case CURLE_COULDNT_CONNECT:
                return .unreachable
            case CURLE_OPERATION_TIMEDOUT:
                return .timedOut
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
                 CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE,
                 CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
                 CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT,
                 CURLE_USE_SSL_FAILED:
                return .tlsFailed
            case CURLE_SEND_ERROR, CURLE_SEND_FAIL_REWIND:
                return .sendFailed
            case CURLE_RECV_ERROR:
                return .receiveFailed
            case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL, CURLE_GOT_NOTHING,
                 CURLE_PARTIAL_FILE, CURLE_BAD_CONTENT_ENCODING:
                return .invalidResponse
            case CURLE_URL_MALFORMAT, CURLE_UNKNOWN_OPTION, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_NOT_BUILT_IN:
                return .refused
            case CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT:
                return .resourceExhausted
            case CURLE_WRITE_ERROR, CURLE_READ_ERROR, CURLE_ABORTED_BY_CALLBACK:
                return .stoppedByCallback
            default:
                return .internalError
            }
        }
    }

    /// The delegate's view of this failure. Once the response head went to the delegate
    /// every failure is a cut-off response (`.aborted`).
    func upstreamError(headDelivered: Bool) -> UpstreamError {
        if headDelivered { return .aborted(message) }
        switch kind {
        case .timedOut: return .timeout
        case .invalidResponse, .receiveFailed: return .invalidResponse(message)
        case .unresolvable, .unreachable, .tlsFailed, .sendFailed, .refused, .resourceExhausted,
             .stoppedByCallback, .internalError:
            return .connectFailed(message)
        }
    }

    // MARK: - The one translation point

    /// Throws unless `code` is CURLE_OK.
    static func check(_ code: CURLcode, _ call: String) throws(UpstreamCallError) {
        guard code == CURLE_OK else { throw UpstreamCallError(code: .easy(code), call: call) }
    }

    /// Throws unless `code` is CURLM_OK (or the obsolete CURLM_CALL_MULTI_PERFORM, "call
    /// again", which libcurl ≥ 7.20 no longer returns and which is not a failure).
    static func check(_ code: CURLMcode, _ call: String) throws(UpstreamCallError) {
        guard code == CURLM_OK || code == CURLM_CALL_MULTI_PERFORM else {
            throw UpstreamCallError(code: .multi(code), call: call)
        }
    }

    /// Throws unless `code` is CURLSHE_OK.
    static func check(_ code: CURLSHcode, _ call: String) throws(UpstreamCallError) {
        guard code == CURLSHE_OK else { throw UpstreamCallError(code: .share(code), call: call) }
    }

    /// A system call's result: returned when not -1, else `errno` thrown.
    @discardableResult
    static func check(system result: Int32, _ call: String) throws(UpstreamCallError) -> Int32 {
        guard result == -1 else { return result }
        throw UpstreamCallError(code: .system(errno: errno), call: call)
    }

    /// A finished transfer's result (CURLMSG_DONE): nil for CURLE_OK.
    /// `detail` is only read for a failure (a success costs no String).
    static func transferResult(_ code: CURLcode, detail: @autoclosure () -> String) -> UpstreamCallError? {
        code == CURLE_OK ? nil : UpstreamCallError(code: .easy(code), call: "transfer", detail: detail())
    }
}

/// Why an upstream call failed, as an operator would group it.
enum UpstreamFailureKind: Equatable, Sendable {
    /// The upstream's host name did not resolve.
    case unresolvable
    /// The TCP connection could not be made (refused, unreachable).
    case unreachable
    /// The TLS handshake, peer verification or a certificate/key file failed.
    case tlsFailed
    /// A time limit elapsed.
    case timedOut
    /// Sending the request failed.
    case sendFailed
    /// Receiving the response failed.
    case receiveFailed
    /// The response is not valid HTTP/1.x (or there was none).
    case invalidResponse
    /// libcurl refused the request or an option (malformed URL, unsupported feature).
    case refused
    /// Out of memory or descriptors.
    case resourceExhausted
    /// One of our callbacks stopped the transfer.
    case stoppedByCallback
    /// A broken invariant: a bad handle or socket, a recursive call.
    case internalError
}
