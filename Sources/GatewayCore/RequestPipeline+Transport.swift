import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

// Decision inputs that come from the connection, not from the request head: the verified
// client certificate of a mutual-TLS connection, certificate-bound tokens (RFC 8705), and
// the `X-Forwarded-*` fields a trusted proxy set (docs/tls.md).
extension RequestPipeline {
    /// Upstream fields naming the verified client certificate; client-sent fields with these
    /// names are always removed (`upstreamFields`).
    public static let clientCertificateSubjectField = "X-Client-Cert-Subject"
    public static let clientCertificateHashField = "X-Client-Cert-SHA256"

    /// 401 when the route says `auth.client_certificate: required` and the connection has no
    /// verified client certificate (plain TCP, or TLS without one).
    static func clientCertificateDenial(_ requirements: AuthRequirements, context: RequestContext) -> DenialReason? {
        guard requirements.clientCertificate, context.security?.clientCertificate == nil else { return nil }
        return .clientCertificateRequired
    }

    /// RFC 8705 §3: a token whose claims hold `cnf` is accepted only on a connection whose
    /// verified client certificate has the SHA-256 thumbprint `cnf["x5t#S256"]` (base64url,
    /// §3.1). A `cnf` that is not an object, or that holds no `x5t#S256` string (a key
    /// confirmation this gateway cannot check, RFC 7800 §3), is refused too: the token's issuer
    /// asked for proof of possession, and a bearer token must not skip it. Tokens without
    /// `cnf` are unaffected.
    static func certificateBindingDenial(_ binding: VerifiedTokenFacts.CertificateBinding, context: RequestContext,
                                         trace: inout DecisionTrace?) -> DenialReason? {
        switch binding {
        case .none:
            return nil
        case .unusable:
            trace.record("certificate binding", false, "cnf holds no x5t#S256 thumbprint: a confirmation this gateway cannot check")
            return .certificateBindingMismatch
        case .thumbprint(let expected):
            guard let certificate = context.security?.clientCertificate,
                  Base64URL.encode(certificate.sha256).exactlyEquals(expected)
            else {
                trace.record("certificate binding", false, DenialReason.certificateBindingMismatch.errorDescription)
                return .certificateBindingMismatch
            }
            trace.record("certificate binding", true, "cnf x5t#S256 is the connection's client certificate")
            return nil
        }
    }

    /// `X-Client-Cert-Subject` (RFC 4514) and `X-Client-Cert-SHA256` (base64url of the SHA-256
    /// of the DER certificate) for a verified client certificate; none otherwise. A subject
    /// that could not travel unchanged in a field value (the TLS layer escapes control
    /// characters, so this does not happen) is left out rather than altered.
    static func clientCertificateFields(_ context: RequestContext) -> [HTTPField] {
        guard let certificate = context.security?.clientCertificate else { return [] }
        var out: [HTTPField] = []
        if isSafeHeaderValue(certificate.subject) {
            out.append(HTTPField(name: clientCertificateSubjectField, value: certificate.subject))
        }
        out.append(HTTPField(name: clientCertificateHashField, value: Base64URL.encode(certificate.sha256)))
        return out
    }

    /// The client's `X-Forwarded-Proto` when the peer is a trusted proxy and sent one, else
    /// the scheme of the connection ("https" over TLS).
    static func forwardedProto(_ head: HTTPRequestHead, context: RequestContext) -> String {
        if context.peerTrusted, let kept = keptValue(head, "x-forwarded-proto") { return kept }
        return context.security != nil ? "https" : context.scheme
    }

    /// The client's `X-Forwarded-Host` when the peer is a trusted proxy and sent one, else
    /// the request's host.
    static func forwardedHost(_ head: HTTPRequestHead, host: String?, context: RequestContext) -> String? {
        if context.peerTrusted, let kept = keptValue(head, "x-forwarded-host") { return kept }
        guard let host, !host.isEmpty else { return nil }
        return host
    }

    /// The values of `name` as one field value (several fields joined with ", ", RFC 9110
    /// §5.3), nil when absent or empty.
    private static func keptValue(_ head: HTTPRequestHead, _ name: String) -> String? {
        let values = head.values(name).filter { !$0.isEmpty }
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }
}
