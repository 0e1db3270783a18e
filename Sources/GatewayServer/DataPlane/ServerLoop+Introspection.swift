import Dispatch
import GatewayCore
import GatewayHTTP
import GatewayUpstream

extension ServerLoop {
    /// Posts `call.token` to its issuer's introspection endpoint (RFC 7662 §2.1) on this
    /// loop's libcurl multi handle (5 s in all, no redirects, response at most 64 KiB), then
    /// ends the call in the issuer's cache, which stores the answer and wakes every request
    /// waiting for it. Counts `gateway_introspection_requests_total{issuer,result}`; a
    /// failure is logged without the token or the secret. Call on `queue`.
    func introspect(_ call: IntrospectionCall) {
        dispatchPrecondition(condition: .onQueue(queue))
        let body = IntrospectionMessage.formBody(token: call.token)
        let fields = [
            HTTPField(name: "Authorization", value: call.introspection.authorization),
            HTTPField(name: "Content-Type", value: "application/x-www-form-urlencoded"),
            HTTPField(name: "Accept", value: "application/json"),
        ]
        let url = call.introspection.config.url
        let request = UpstreamRequest(method: "POST", url: url, fields: fields, body: .length(UInt64(body.count)),
                                      connectTimeout: IntrospectionMessage.timeout, timeout: IntrospectionMessage.timeout)
        let metrics = self.metrics
        let logger = self.logger
        let download = IntrospectionDownload(body: body) { answer in
            let now = wallClockSeconds()
            metrics.counter("gateway_introspection_requests_total",
                            labels: [("issuer", call.issuerName), ("result", answer.metricResult)],
                            help: "RFC 7662 introspection calls by issuer and result (active, inactive, error).").increment()
            if case .unavailable(let why) = answer {
                logger.warning("introspection failed; requests waiting for it are answered 503",
                               metadata: ["issuer": "\(call.issuerName)", "url": "\(url)", "error": "\(why)"])
            }
            let until = call.introspection.cacheDeadline(now: now, tokenExpiry: call.tokenExpiry, answer: answer)
            call.introspection.cache.finish(call.key, answer: answer, until: until, now: now)
        }
        _ = upstream.start(request, delegate: download)
    }
}
