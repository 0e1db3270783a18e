/// How a TLS handshake ended, for `gateway_tls_handshakes_total{result}` (the raw values
/// are the label values).
public enum TLSHandshakeResult: String, Sendable, Equatable, CaseIterable {
    case ok
    /// The client offered no protocol version the listener accepts (TLS 1.1 and older).
    case protocolVersion = "protocol_version"
    /// No cipher suite in common (e.g. a TLS 1.2 client offering only CBC suites).
    case noSharedCipher = "no_shared_cipher"
    /// ALPN offered without `http/1.1` (e.g. only `h2`).
    case noApplicationProtocol = "no_application_protocol"
    /// `client_certificate: required` and the client sent none.
    case clientCertificateMissing = "client_certificate_missing"
    /// The client certificate did not verify (unknown CA, expired, wrong key usage).
    case clientCertificateInvalid = "client_certificate_invalid"
    /// The client refused the gateway's certificate: it answered with a certificate alert
    /// (`bad_certificate`, `unsupported_certificate`, `certificate_revoked`,
    /// `certificate_expired`, `certificate_unknown`, `unknown_ca`; RFC 8446 §6.2), e.g. a
    /// client that does not trust the issuing CA or a name that does not match.
    case serverCertificateRejected = "server_certificate_rejected"
    /// The first bytes were plain HTTP, not a TLS record (answer 400 in clear text).
    case plainHTTP = "plain_http"
    /// The peer closed or reset the connection during the handshake.
    case closed
    /// Any other failure (malformed handshake, not TLS at all, internal error).
    case error
}
