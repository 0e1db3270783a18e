import Prometheus

/// `gateway_tls_handshakes_total{result,version,resumed}` series of one loop, created once
/// per label combination (all bounded: `TLSHandshakeResult` raw values plus `incomplete`,
/// "TLSv1.2"/"TLSv1.3" or "none", "true"/"false"), with `listener="decision"` on the decision
/// listener (the proxy listener's series have no `listener` label, as for the request series).
/// Touched on the loop's queue only.
final class TLSHandshakeCounters {
    private let metrics: GatewayMetrics
    private let listener: String?
    private var series: [String: Prometheus.Counter] = [:]

    /// - Parameter listener: the `listener` label (nil: none, the proxy listener).
    init(metrics: GatewayMetrics, listener: String? = nil) {
        self.metrics = metrics
        self.listener = listener
    }

    /// Counts one handshake that ended with `result`.
    /// - Parameters:
    ///   - version: the negotiated protocol ("TLSv1.3"); nil when the handshake failed.
    ///   - resumed: the session was resumed (no full handshake).
    func count(result: String, version: String?, resumed: Bool) {
        let v = version ?? "none"
        let key = result + "|" + v + (resumed ? "|r" : "|f")
        if let counter = series[key] {
            counter.increment()
            return
        }
        let counter = metrics.counter(
            "gateway_tls_handshakes_total",
            labels: [("result", result), ("version", v), ("resumed", resumed ? "true" : "false")]
                + GatewayMetrics.listenerLabel(listener),
            help: "TLS handshakes on the listener, by result (ok or why it failed), protocol version and resumption.")
        series[key] = counter
        counter.increment()
    }
}
