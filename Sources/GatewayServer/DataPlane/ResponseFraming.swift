import GatewayCore
import GatewayHTTP

/// How an upstream response head is relayed to the client: which fields go out, how the
/// body is delimited, and whether the connection stays open. Pure: no I/O, no state.
struct ResponseFraming: Equatable {
    /// How the body is delimited on the client connection.
    enum Body: Equatable {
        /// No body (HEAD, 1xx, 204, 304).
        case none
        /// The upstream's `Content-Length`, passed through.
        case contentLength
        /// Re-framed as chunked (RFC 9112 §7.1), written with `HTTPChunkedEncoding`.
        case chunked
        /// Ends when the connection closes (an HTTP/1.0 client and no length).
        case closeDelimited
    }

    /// The fields to send: hop-by-hop removed, framing and `Connection` set.
    var fields: [HTTPField]
    var body: Body
    /// Whether the connection may carry another request after this response.
    var keepAlive: Bool

    /// The decisions about one response head, before any field is written: `frame` turns
    /// them into fields, `writeHead` straight into bytes.
    struct Plan: Equatable {
        var body: Body
        var keepAlive: Bool
        /// The upstream's `Content-Length` is not sent (1xx, 204, or `Transfer-Encoding`).
        var dropsLength: Bool
        /// `Transfer-Encoding: chunked` is added (re-chunked for an HTTP/1.1 client).
        var addsChunked: Bool
        /// The `Connection` value added, if any (`close`, or `keep-alive` for HTTP/1.0).
        var connection: String?
    }

    /// Frames `status`/`upstreamFields` for a client that sent `requestMethod` over
    /// `requestVersion`.
    /// - Parameter keepAlive: whether the client connection could stay open (the client
    ///   asked for it, its request is complete, and the gateway is not draining).
    /// - Returns: nil when the upstream's framing is one the client could read differently
    ///   (several or non-numeric `Content-Length` values): answer 502 instead.
    static func plan(status: Int, upstreamFields: [HTTPField], requestMethod: String,
                     requestVersion: HTTPVersion, keepAlive wanted: Bool) -> Plan? {
        var hadLength = false
        var hadTransferEncoding = false
        for f in upstreamFields {
            if f.hasName("content-length") { hadLength = true }
            if f.hasName("transfer-encoding") { hadTransferEncoding = true }
        }
        let noBody = requestMethod == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
        var dropsLength = false
        if status == 204 || (100..<200).contains(status) {
            // RFC 9110 §8.6: no Content-Length in a 1xx or 204 response.
            dropsLength = true
            hadLength = false
        }
        if hadLength {
            // "2, 2" and the like (RFC 9112 §6.3), or a length `Connection` named away.
            var valid = false
            HopByHop.forEachEndToEnd(upstreamFields) { f in
                if !valid, f.hasName("content-length"),
                   f.withValueBytes({ !$0.isEmpty && $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }) {
                    valid = true
                }
            }
            if !valid { return nil }
        }
        if hadTransferEncoding {
            // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
            dropsLength = true
            hadLength = false
        }
        var keepAlive = wanted
        let body: Body
        var addsChunked = false
        if noBody {
            body = .none
        } else if hadLength {
            body = .contentLength
        } else if requestVersion == .http11 {
            body = .chunked
            addsChunked = true
        } else {
            body = .closeDelimited
            keepAlive = false
        }
        var connection: String?
        if !keepAlive {
            connection = "close"
        } else if requestVersion == .http10 {
            connection = "keep-alive"
        }
        return Plan(body: body, keepAlive: keepAlive, dropsLength: dropsLength, addsChunked: addsChunked,
                    connection: connection)
    }

    /// `plan`'s decisions as the fields to send.
    static func frame(status: Int, upstreamFields: [HTTPField], requestMethod: String,
                      requestVersion: HTTPVersion, keepAlive wanted: Bool) -> ResponseFraming? {
        guard let plan = plan(status: status, upstreamFields: upstreamFields, requestMethod: requestMethod,
                              requestVersion: requestVersion, keepAlive: wanted) else { return nil }
        var fields: [HTTPField] = []
        fields.reserveCapacity(upstreamFields.count + 2)
        HopByHop.forEachEndToEnd(upstreamFields) { f in
            if !(plan.dropsLength && f.hasName("content-length")) { fields.append(f) }
        }
        if plan.addsChunked { fields.append(HTTPField(name: "Transfer-Encoding", value: "chunked")) }
        if let connection = plan.connection { fields.append(HTTPField(name: "Connection", value: connection)) }
        return ResponseFraming(fields: fields, body: plan.body, keepAlive: plan.keepAlive)
    }

    /// The HTTP/1.1 response head for `plan`, written straight from the upstream's fields:
    /// the same bytes as `HTTPResponseHead(status:fields: frame(…).fields).serialized()`
    /// without the intermediate fields.
    static func writeHead(status: Int, upstreamFields: [HTTPField], plan: Plan) -> [UInt8] {
        var out: [UInt8] = []
        var size = 9 + 4 + 24 + 2 + 2 + 64
        for f in upstreamFields { size += f.withNameBytes { $0.count } + f.valueByteCount + 4 }
        out.reserveCapacity(size)
        HTTPResponseHead.appendStatusLine(status, version: .http11, to: &out)
        HopByHop.forEachEndToEnd(upstreamFields) { f in
            if !(plan.dropsLength && f.hasName("content-length")) { HTTPResponseHead.appendField(f, to: &out) }
        }
        if plan.addsChunked { out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8) }
        if let connection = plan.connection {
            out.append(contentsOf: "Connection: ".utf8)
            out.append(contentsOf: connection.utf8)
            out.append(0x0D); out.append(0x0A)
        }
        out.append(0x0D); out.append(0x0A)
        return out
    }
}
