import GatewayHTTP
import W3CTraceContext

/// The W3C Trace Context (https://www.w3.org/TR/trace-context/) of one request through the
/// gateway: the trace it belongs to, the gateway's server span (the request as received) and
/// client span (the upstream exchange), and what the upstream is sent.
///
/// A valid `traceparent` from the client is continued: same trace id, its span id as the
/// server span's parent, its `sampled` flag, and its `tracestate` kept. An absent or invalid
/// one starts a new trace (and any `tracestate` is dropped, §3.3.1.1: it belongs to the trace
/// that was refused).
public struct RequestTrace: Sendable, Equatable {
    public var traceID: TraceID
    /// The client's span (the server span's parent); nil when the gateway started the trace.
    public var parentSpanID: SpanID?
    public var serverSpanID: SpanID
    /// The span the upstream sees as its parent (`traceparent` parent-id sent upstream).
    public var clientSpanID: SpanID
    public var flags: TraceFlags
    /// `tracestate` as received (several fields joined with ","), at most
    /// `maxTraceStateBytes`; nil when there was none or the trace was restarted.
    public var traceState: String?

    /// Whether the spans of this request are exported (the `sampled` flag sent upstream).
    public var sampled: Bool { flags.contains(.sampled) }

    /// W3C Trace Context §3.3.1.5: at least 512 characters of `tracestate` should be
    /// propagated; longer lists lose whole members from the end (§3.3.1.3.2).
    public static let maxTraceStateBytes = 512

    public init(traceID: TraceID, parentSpanID: SpanID?, serverSpanID: SpanID, clientSpanID: SpanID,
                flags: TraceFlags, traceState: String?) {
        self.traceID = traceID
        self.parentSpanID = parentSpanID
        self.serverSpanID = serverSpanID
        self.clientSpanID = clientSpanID
        self.flags = flags
        self.traceState = traceState
    }

    /// The trace of a request with these header fields.
    ///
    /// A `traceparent` is valid when there is exactly one field, of exactly 55 characters,
    /// version `00`, lowercase hexadecimal, trace id and parent id not all zero (§3.2.2).
    /// Other versions (`ff` is forbidden, later ones unknown here) start a new trace.
    /// - Parameter sampler: decides a new trace's `sampled` flag (a continued trace keeps the
    ///   client's, so the whole trace is kept or dropped together).
    public static func derive(from fields: [HTTPField], ids: inout TraceIDGenerator, sampler: TraceSampler) -> RequestTrace {
        var parent: String?
        var parents = 0
        var states: [String] = []
        for f in fields {
            switch TraceContextField.kind(of: f) {
            case .parent?:
                parents += 1
                parent = f.value
            case .state?:
                states.append(f.value)
            case nil:
                break
            }
        }
        let server = ids.spanID()
        let client = ids.spanID()
        if parents == 1, let parent, let context = try? TraceContext(traceParentHeaderValue: parent) {
            return RequestTrace(traceID: context.traceID, parentSpanID: context.spanID, serverSpanID: server,
                                clientSpanID: client, flags: context.flags.intersection(.sampled),
                                traceState: Self.traceState(states))
        }
        let trace = ids.traceID()
        return RequestTrace(traceID: trace, parentSpanID: nil, serverSpanID: server, clientSpanID: client,
                            flags: sampler.samples(trace) ? .sampled : [], traceState: nil)
    }

    /// The combined `tracestate` (RFC 9110 §5.3 list rules), trimmed to `maxTraceStateBytes`
    /// by dropping members from the end; nil when empty.
    static func traceState(_ values: [String]) -> String? {
        let joined = values.count == 1 ? values[0] : values.joined(separator: ",")
        guard !joined.isEmpty else { return nil }
        if joined.utf8.count <= maxTraceStateBytes { return joined }
        var kept: [Substring] = []
        var size = 0
        for member in joined.split(separator: ",", omittingEmptySubsequences: true) {
            let extra = member.utf8.count + (kept.isEmpty ? 0 : 1)
            if size + extra > maxTraceStateBytes { break }
            kept.append(member)
            size += extra
        }
        return kept.isEmpty ? nil : kept.joined(separator: ",")
    }

    /// `00-<trace id>-<client span id>-<flags>`: the `traceparent` sent upstream.
    public var traceParent: String {
        String(unsafeUninitializedCapacity: Self.traceParentLength) { out in
            writeTraceParent(UnsafeMutableRawBufferPointer(out))
            return Self.traceParentLength
        }
    }

    /// The length of a version-00 `traceparent` value (W3C Trace Context §3.2.2).
    static let traceParentLength = 55

    /// Writes `traceParent` into the first `traceParentLength` bytes of `out`.
    private func writeTraceParent(_ out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= Self.traceParentLength)
        var i = 0
        func put(_ b: UInt8) { out[i] = b; i += 1 }
        put(0x30); put(0x30); put(0x2D)
        withUnsafeBytes(of: traceID.bytes) { for b in $0 { put(Hex.high(b)); put(Hex.low(b)) } }
        put(0x2D)
        withUnsafeBytes(of: clientSpanID.bytes) { for b in $0 { put(Hex.high(b)); put(Hex.low(b)) } }
        put(0x2D)
        put(Hex.high(flags.rawValue)); put(Hex.low(flags.rawValue))
    }

    /// The 32 lowercase hexadecimal digits of the trace id (the access log's `trace_id`).
    public var traceIDHex: String { Hex.string(traceID.bytes) }

    /// `traceIDHex` appended as bytes (no String built).
    public func appendTraceIDHex(to out: inout [UInt8]) { Hex.append(traceID.bytes, to: &out) }

    /// The header fields the upstream gets in place of the client's `traceparent` and
    /// `tracestate`: the gateway's `traceparent`, and the client's `tracestate` when the
    /// trace was continued.
    public var upstreamFields: [HTTPField] {
        // Name and value written as bytes into one buffer the field shares (no String).
        let name: StaticString = "traceparent"
        let nameLength = name.utf8CodeUnitCount
        let bytes = [UInt8](unsafeUninitializedCapacity: nameLength + Self.traceParentLength) { buffer, count in
            buffer.baseAddress!.initialize(from: name.utf8Start, count: nameLength)
            writeTraceParent(UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[nameLength...])))
            count = nameLength + Self.traceParentLength
        }
        var out = [HTTPField(bytes: bytes, name: 0..<nameLength, value: nameLength..<bytes.count)]
        if let traceState { out.append(HTTPField(name: "tracestate", value: traceState)) }
        return out
    }

    public static func == (a: RequestTrace, b: RequestTrace) -> Bool {
        a.traceID == b.traceID && a.parentSpanID == b.parentSpanID && a.serverSpanID == b.serverSpanID
            && a.clientSpanID == b.clientSpanID && a.flags == b.flags && a.traceState == b.traceState
    }
}
