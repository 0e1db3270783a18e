/// `tracing:`: where and how spans are exported (OTLP/HTTP). Absent: the gateway still
/// propagates W3C trace context but exports nothing.
public struct TracingConfig: Sendable, Equatable {
    /// The collector's OTLP/HTTP base URL as written (`http://collector:4318`).
    public var endpoint: String
    /// Where spans are POSTed: `endpoint` + `/v1/traces`, unless it already ends so.
    public var tracesURL: String
    /// `service.name` of the exported resource.
    public var serviceName = "gateway"
    /// Share of new traces that are sampled, 0...1 (a continued trace keeps the client's flag).
    public var sampleRatio = 1.0

    public init(endpoint: String) {
        self.endpoint = endpoint
        var base = endpoint
        if base.hasSuffix("/v1/traces") {
            tracesURL = base
        } else {
            while base.hasSuffix("/") { base.removeLast() }
            tracesURL = base + "/v1/traces"
        }
    }
}
