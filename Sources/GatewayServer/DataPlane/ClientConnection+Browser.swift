import GatewayCore
import GatewayHTTP
import GatewayPolicy

/// CORS on the connection (docs/browser-apps.md): preflights the gateway answers itself, and
/// which of the gateway's own responses carry the route's `Access-Control-*` fields.
extension ClientConnection {
    /// An allowed preflight: `204` once the request is complete. Without content (every
    /// browser preflight) the connection stays open for the actual request; a preflight with
    /// content is answered at once and the connection closed, like a refusal, since its body
    /// is never read.
    func preflightAllowed(_ ex: Exchange, fields: [HTTPField]) {
        guard ex.head.framing == .none else {
            answer(.corsPreflight(fields: fields))
            return
        }
        ex.preflightFields = fields
        machine.forwarding(hasBody: false, now: monotonicSeconds(), timeouts)
    }

    /// Called when the request of `ex` is complete: answers on the next queue turn, outside
    /// the parsing loop (the next request is read after the answer, as after a relayed one).
    func answerPreflightWhenComplete(_ ex: Exchange) {
        loop.queue.async { [weak self] in
            guard let self, self.exchange === ex, !self.closed, let fields = ex.preflightFields else { return }
            let keepAlive = ex.head.keepAlive && !self.loop.draining
            ex.outcome = .corsPreflight(fields: fields)
            ex.status = 204
            self.enqueue(GatewayResponse(status: 204, fields: fields, body: [])
                .serialized(requestMethod: ex.head.method, close: !keepAlive, keepAliveFor10: ex.head.version == .http10))
            self.finishExchange(keepAlive: keepAlive)
        }
    }

    /// The route's `cors` for a refusal on it, so the page that sent the request can read
    /// the refusal (a `401` it can act on); nil for a refused preflight, which gets no
    /// `Access-Control-*` field at all.
    func corsForRefusal(_ refusal: Refusal, routeName: String?, runtime: GatewayRuntime) -> CORSConfig? {
        if case .corsPreflightRefused = refusal.reason { return nil }
        return RequestPipeline.cors(ofRoute: routeName, runtime: runtime)
    }
}
