import GatewayCore
import GatewayHTTP

/// The decision listener's exchanges (docs/forward-auth.md): the head is decided by
/// `ForwardAuth.decide` (the proxy listener's `RequestPipeline.decide` on the rebuilt
/// original request) and answered by the gateway; no upstream, no body read.
///
/// Over `decision.tls` the TLS peer is the ingress, not the client: the connection's TLS
/// facts (and a verified certificate) are the ingress's and never enter the decision. So a
/// route with `auth.client_certificate: required` and a certificate-bound token (RFC 8705
/// `cnf`) are refused as on a connection without a certificate, and the answer carries no
/// `X-Client-Cert-*` field. `Host` names the original request's site, so the proxy
/// listener's SNI/`Host` check (421) does not apply either.
extension ClientConnection {
    /// Starts the exchange for a decision request's head.
    func startDecision(_ head: HTTPRequestHead, runtime: GatewayRuntime) {
        let ex = Exchange(head: head, maxBody: 0, started: monotonicSeconds())
        exchange = ex
        decideForIngress(ex, runtime: runtime, mayRefetchKeys: true)
    }

    private func decideForIngress(_ ex: Exchange, runtime: GatewayRuntime, mayRefetchKeys: Bool,
                                  introspection: IntrospectionAnswer? = nil) {
        // No `security`: the ingress's TLS connection says nothing about the client's.
        var context = RequestContext(clientAddress: peer, scheme: "http", now: wallClockSeconds(),
                                     mayRefetchKeys: mayRefetchKeys, makeRequestID: { [loop] in loop.nextRequestID() })
        context.introspectionAnswer = introspection
        let original = ForwardAuthRequest.reconstruct(ex.head, defaultScheme: context.scheme)
        if case .success(let r) = original { ex.loggedRequest = (r.head.method, r.head.target) }
        switch ForwardAuth.decide(original, decision: ex.head, context: context, runtime: runtime) {
        case .needsKeyRefresh(let issuer):
            guard machine.decided(.waitForInput) == .wait else { return }
            afterKeyRefetch(of: issuer, for: ex, runtime: runtime) { c in
                c.decideForIngress(ex, runtime: runtime, mayRefetchKeys: false)
            }
        case .needsIntrospection(let call):
            guard machine.decided(.waitForInput) == .wait else { return }
            afterIntrospection(call, for: ex) { c, answer in
                c.decideForIngress(ex, runtime: runtime, mayRefetchKeys: mayRefetchKeys, introspection: answer)
            }
        case .refuse(let refusal, let route, let requestID):
            ex.requestID = requestID
            ex.routeName = route
            guard case .answer(let outcome) = machine.decided(.refuse(.denied(refusal))),
                  let response = outcome.response else { return }
            answerIngress(ex, outcome: outcome, response: response)
        case .allow(let fields, let route, let requestID, let subject, let wouldDeny):
            ex.requestID = requestID
            ex.routeName = route
            ex.subject = subject
            let outcome: Outcome = wouldDeny.map { .forwardedReportOnly($0) } ?? .served
            guard machine.decided(.answered) == .sendAnswer else { return }
            answerIngress(ex, outcome: outcome, response: GatewayResponse(status: 200, fields: fields, body: []))
        }
    }

    /// Sends the decision. A decision request with a body (which is never read) ends the
    /// connection after the answer; otherwise the answer leaves on the next queue turn, once
    /// the parser has reported the request's end, and the connection is kept for the next one.
    private func answerIngress(_ ex: Exchange, outcome: Outcome, response: GatewayResponse) {
        guard ex.head.framing == .none else {
            sendIngressAnswer(ex, outcome: outcome, response: response, keepAlive: false)
            return
        }
        loop.queue.async { [weak self] in
            guard let self, self.exchange === ex, !self.closed else { return }
            self.sendIngressAnswer(ex, outcome: outcome, response: response, keepAlive: ex.head.keepAlive && !self.loop.draining)
        }
    }

    private func sendIngressAnswer(_ ex: Exchange, outcome: Outcome, response: GatewayResponse, keepAlive: Bool) {
        ex.status = response.status
        ex.outcome = outcome
        enqueue(response.serialized(requestMethod: ex.head.method, close: !keepAlive,
                                    keepAliveFor10: keepAlive && ex.head.version == .http10))
        finishExchange(keepAlive: keepAlive)
    }
}
