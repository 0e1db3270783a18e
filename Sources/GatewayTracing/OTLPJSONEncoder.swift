import W3CTraceContext

/// The body of an OTLP/HTTP trace export in JSON (OpenTelemetry Protocol §"OTLP/HTTP",
/// `ExportTraceServiceRequest` in the protobuf JSON mapping, ids as lowercase hex,
/// 64-bit integers as decimal strings, enums as numbers), sent as `application/json`.
///
/// Per exchange: a SERVER span (the request: method, path, status, route, decision, reason,
/// request id, client address, `enduser.id` = `sub`) and, when the request went upstream,
/// a CLIENT span, its child (the upstream exchange). Never a token, header value or other claim.
public enum OTLPJSONEncoder {
    /// OTLP `Span.SpanKind`.
    static let kindServer = 2
    static let kindClient = 3
    /// OTLP `Status.StatusCode`.
    static let statusError = 2

    /// One request body for `exchanges`, all under one resource (`service.name`).
    public static func encode(_ exchanges: [FinishedExchange], serviceName: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + exchanges.count * 1200)
        out.append(contentsOf: #"{"resourceSpans":[{"resource":{"attributes":["#.utf8)
        attribute("service.name", string: serviceName, first: true, to: &out)
        out.append(contentsOf: #"]},"scopeSpans":[{"scope":{"name":"gateway"},"spans":["#.utf8)
        var first = true
        for e in exchanges {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            serverSpan(e, to: &out)
            if e.upstreamStartNanos != nil {
                out.append(UInt8(ascii: ","))
                clientSpan(e, to: &out)
            }
        }
        out.append(contentsOf: "]}]}]}".utf8)
        return out
    }

    static func serverSpan(_ e: FinishedExchange, to out: inout [UInt8]) {
        spanStart(e.trace, spanID: e.trace.serverSpanID, parent: e.trace.parentSpanID,
                  name: e.route.map { "\(e.method) \($0)" } ?? e.method, kind: kindServer,
                  start: e.startNanos, end: e.endNanos, to: &out)
        let (path, query) = split(e.target)
        attribute("http.request.method", string: e.method, first: true, to: &out)
        attribute("url.path", string: path, to: &out)
        if let query { attribute("url.query", string: query, to: &out) }
        attribute("http.response.status_code", int: e.status, to: &out)
        attribute("client.address", string: e.clientAddress, to: &out)
        if let route = e.route { attribute("gateway.route", string: route, to: &out) }
        attribute("gateway.decision", string: e.decision, to: &out)
        attribute("gateway.reason", string: e.reason, to: &out)
        attribute("gateway.request_id", string: e.requestID, to: &out)
        if let s = e.subject { attribute("enduser.id", string: s, to: &out) }
        // OpenTelemetry HTTP semantic conventions: a server span is an error for 5xx only.
        spanEnd(error: e.status >= 500 || e.status <= 0 ? e.reason : nil, to: &out)
    }

    static func clientSpan(_ e: FinishedExchange, to out: inout [UInt8]) {
        let start = e.upstreamStartNanos ?? e.startNanos
        spanStart(e.trace, spanID: e.trace.clientSpanID, parent: e.trace.serverSpanID, name: "\(e.method) upstream",
                  kind: kindClient, start: start, end: max(start, e.upstreamEndNanos ?? e.endNanos), to: &out)
        let (path, _) = split(e.target)
        attribute("http.request.method", string: e.method, first: true, to: &out)
        attribute("url.path", string: path, to: &out)
        let answered = e.reason == "ok"
        if answered { attribute("http.response.status_code", int: e.status, to: &out) }
        if let route = e.route { attribute("gateway.route", string: route, to: &out) }
        if !answered { attribute("error.type", string: e.reason, to: &out) }
        // A client span is an error for 4xx and 5xx, and when no response came.
        spanEnd(error: !answered ? e.reason : (e.status >= 400 ? String(e.status) : nil), to: &out)
    }

    static func spanStart(_ t: RequestTrace, spanID: SpanID, parent: SpanID?, name: String, kind: Int,
                          start: UInt64, end: UInt64, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"traceId":""#.utf8)
        Hex.append(t.traceID.bytes, to: &out)
        out.append(contentsOf: #"","spanId":""#.utf8)
        Hex.append(spanID.bytes, to: &out)
        if let parent {
            out.append(contentsOf: #"","parentSpanId":""#.utf8)
            Hex.append(parent.bytes, to: &out)
        }
        out.append(UInt8(ascii: "\""))
        if let state = t.traceState {
            out.append(contentsOf: #","traceState":"#.utf8)
            appendString(state, to: &out)
        }
        out.append(contentsOf: #","flags":"#.utf8)
        out.append(contentsOf: String(t.flags.rawValue).utf8)
        out.append(contentsOf: #","name":"#.utf8)
        appendString(name, to: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        out.append(contentsOf: String(kind).utf8)
        out.append(contentsOf: #","startTimeUnixNano":""#.utf8)
        out.append(contentsOf: String(start).utf8)
        out.append(contentsOf: #"","endTimeUnixNano":""#.utf8)
        out.append(contentsOf: String(max(start, end)).utf8)
        out.append(contentsOf: #"","attributes":["#.utf8)
    }

    static func spanEnd(error: String?, to out: inout [UInt8]) {
        out.append(contentsOf: #"],"status":{"#.utf8)
        if let error {
            out.append(contentsOf: #""code":2,"message":"#.utf8)
            appendString(error, to: &out)
        }
        out.append(contentsOf: "}}".utf8)
    }

    static func attribute<S: StringProtocol>(_ key: String, string value: S, first: Bool = false, to out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: #"{"key":"#.utf8)
        appendString(key, to: &out)
        out.append(contentsOf: #","value":{"stringValue":"#.utf8)
        appendString(value, to: &out)
        out.append(contentsOf: "}}".utf8)
    }

    static func attribute(_ key: String, int value: Int, to out: inout [UInt8]) {
        out.append(contentsOf: #",{"key":"#.utf8)
        appendString(key, to: &out)
        out.append(contentsOf: #","value":{"intValue":""#.utf8)
        out.append(contentsOf: String(value).utf8)
        out.append(contentsOf: #""}}"#.utf8)
    }

    /// Path and query (without `?`) of a request target.
    static func split(_ target: String) -> (Substring, Substring?) {
        guard let q = target.firstIndex(of: "?") else { return (target[...], nil) }
        return (target[..<q], target[target.index(after: q)...])
    }

    /// A JSON string (RFC 8259 §7): `"` `\` and controls escaped; other bytes (UTF-8) as is.
    static func appendString<S: StringProtocol>(_ s: S, to out: inout [UInt8]) {
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            case 0x09: out.append(0x5C); out.append(0x74)
            case 0..<0x20, 0x7F:
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, Hex.high(b), Hex.low(b)])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}
