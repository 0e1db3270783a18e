internal import COpenSSL
import GatewayEvents
internal import GatewayJOSE

#if canImport(Glibc)
import Glibc
#endif

/// The one place libssl's return conventions become `TransportResult`s: `SSL_get_error`
/// after an `SSL_*` call that did not succeed (SSL_get_error(3)), and the reason codes of a
/// failed handshake. Clears OpenSSL's error queue every time, so a failure on one connection
/// never shows up on the next connection served by the same thread.
enum SSLResult {
    /// What a failed call means. `errnoValue` must be read right after the call.
    enum Outcome: Equatable {
        case wouldBlock(Readiness)
        /// close_notify received (reads), or the peer closed without it.
        case closed
        /// Fatal: the connection is unusable; the reasons are OpenSSL's (no key material).
        case failed(reason: String, handshake: TLSHandshakeResult)
    }

    static func translate(ssl: OpaquePointer, returned: Int32, errnoValue: Int32) -> Outcome {
        let code = SSL_get_error(ssl, returned)
        switch code {
        case SSL_ERROR_WANT_READ:
            return .wouldBlock(.readable)
        case SSL_ERROR_WANT_WRITE:
            return .wouldBlock(.writable)
        case SSL_ERROR_ZERO_RETURN:
            OpenSSLErrorQueue.clear()
            return .closed
        case SSL_ERROR_SYSCALL:
            // An empty error queue with errno 0 is an EOF that broke the protocol; with
            // errno set, the socket call failed (ECONNRESET, EPIPE).
            let pending = ERR_peek_error()
            OpenSSLErrorQueue.clear()
            if pending == 0, errnoValue == 0 || errnoValue == ECONNRESET || errnoValue == EPIPE { return .closed }
            return .failed(reason: "socket error: \(String(cString: strerror(errnoValue)))", handshake: .closed)
        default:
            let first = ERR_peek_error()
            let kind = classify(first)
            if kind == .closed {
                OpenSSLErrorQueue.clear()
                return .closed
            }
            return .failed(reason: OpenSSLErrorQueue.take(), handshake: kind)
        }
    }

    /// The handshake result a libssl error code stands for.
    static func classify(_ code: UInt) -> TLSHandshakeResult {
        guard gw_err_lib(code) == ERR_LIB_SSL else { return .error }
        switch gw_err_reason(code) {
        case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_VERSION_TOO_LOW, SSL_R_WRONG_VERSION_NUMBER,
             SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
            return .protocolVersion
        case SSL_R_NO_SHARED_CIPHER: return .noSharedCipher
        case SSL_R_NO_APPLICATION_PROTOCOL: return .noApplicationProtocol
        case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: return .clientCertificateMissing
        case SSL_R_CERTIFICATE_VERIFY_FAILED: return .clientCertificateInvalid
        case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE,
             SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED, SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,
             SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN, SSL_R_TLSV1_ALERT_UNKNOWN_CA:
            // Alerts the client sent about the gateway's own certificate.
            return .serverCertificateRejected
        case SSL_R_UNEXPECTED_EOF_WHILE_READING: return .closed
        case SSL_R_HTTP_REQUEST: return .plainHTTP
        default: return .error
        }
    }
}
