import GatewayCore
import GatewayHTTP
import GatewayTLS

/// What a TLS connection adds to the exchange: the handshake metric, the clear-text answer
/// to plain HTTP on the TLS port, `421 Misdirected Request`, and the decision's connection
/// facts (docs/tls.md).
extension ClientConnection {
    /// Counts the handshake in `gateway_tls_handshakes_total` once it ended (or, when the
    /// connection closes first, as `incomplete`: a header timeout, a shutdown).
    func recordHandshake() {
        guard let tls = tlsTransport, !handshakeRecorded else { return }
        let result: String
        if let ended = tls.handshakeResult {
            result = ended.rawValue
        } else if closed {
            result = "incomplete"
        } else {
            return
        }
        handshakeRecorded = true
        loop.tlsHandshakes.count(result: result, version: tls.security?.protocolVersion, resumed: tls.security?.resumed ?? false)
    }

    /// Plain HTTP sent to the TLS port: the transport is clear text from here on, so the
    /// client gets a readable `400` (and the connection closes after it), as nginx answers
    /// "plain HTTP request was sent to HTTPS port". False when the failure was anything else.
    func answeredPlainHTTP() -> Bool {
        guard let tls = tlsTransport, tls.plainHTTPDetected else { return false }
        recordHandshake()
        answerWithoutRequest(.malformedRequest(.badRequest("plain HTTP request sent to the HTTPS port")))
        return true
    }

    /// RFC 9110 §15.5.20: the client sent SNI and the request's `Host` is not a name of the
    /// certificate SNI chose; answering would let one certificate's connection reach another
    /// site's routes. Answers 421 and closes. A request without `Host` (HTTP/1.0) is not checked.
    func refusedAsMisdirected(_ ex: Exchange) -> Bool {
        guard let security = tlsTransport?.security,
              let host = ex.head.fields.first(where: { $0.withNameBytes { HTTPSyntax.equalsLowercase($0, "host") } })?.value,
              security.isMisdirected(host: host)
        else { return false }
        ex.requestID = loop.nextRequestID()
        answer(.denied(Refusal(.misdirectedRequest)))
        return true
    }

    /// The decision's view of the connection: scheme, TLS facts, the peer, and the client
    /// behind a trusted proxy (`listen.trusted_proxies`).
    func requestContext(_ ex: Exchange, runtime: GatewayRuntime, mayRefetchKeys: Bool) -> RequestContext {
        let trusted = runtime.config.trustedProxies
        var client = ForwardedClient(address: peer, peerTrusted: false)
        if !trusted.isEmpty {
            client = ForwardedClient.resolve(peer: peer, forwardedFor: ex.head.values("x-forwarded-for"), trusted: trusted)
        }
        ex.clientAddress = client.address == peer ? nil : client.address
        return RequestContext(clientAddress: client.address, scheme: tlsTransport == nil ? "http" : "https",
                              now: wallClockSeconds(), mayRefetchKeys: mayRefetchKeys, security: tlsTransport?.security,
                              peer: peer, peerTrusted: client.peerTrusted, upstreamTraceFields: ex.trace?.upstreamFields,
                              makeRequestID: { [loop] in loop.nextRequestID() })
    }
}
