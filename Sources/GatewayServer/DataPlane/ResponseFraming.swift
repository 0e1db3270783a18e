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

    /// Frames `status`/`upstreamFields` for a client that sent `requestMethod` over
    /// `requestVersion`.
    /// - Parameter keepAlive: whether the client connection could stay open (the client
    ///   asked for it, its request is complete, and the gateway is not draining).
    /// - Returns: nil when the upstream's framing is one the client could read differently
    ///   (several or non-numeric `Content-Length` values): answer 502 instead.
    static func frame(status: Int, upstreamFields: [HTTPField], requestMethod: String,
                      requestVersion: HTTPVersion, keepAlive wanted: Bool) -> ResponseFraming? {
        var hadLength = false
        var hadTransferEncoding = false
        for f in upstreamFields {
            if f.hasName("content-length") { hadLength = true }
            if f.hasName("transfer-encoding") { hadTransferEncoding = true }
        }
        var fields = HopByHop.removing(from: upstreamFields)
        let noBody = requestMethod == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
        if status == 204 || (100..<200).contains(status) {
            // RFC 9110 §8.6: no Content-Length in a 1xx or 204 response.
            fields.removeAll { $0.hasName("content-length") }
            hadLength = false
        }
        if hadLength, !fields.contains(where: { $0.hasName("content-length")
            && $0.withValueBytes { !$0.isEmpty && $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } } }) {
            return nil  // "2, 2" and the like (RFC 9112 §6.3)
        }
        if hadTransferEncoding {
            // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
            fields.removeAll { $0.hasName("content-length") }
            hadLength = false
        }
        var keepAlive = wanted
        let body: Body
        if noBody {
            body = .none
        } else if hadLength {
            body = .contentLength
        } else if requestVersion == .http11 {
            body = .chunked
            fields.append(HTTPField(name: "Transfer-Encoding", value: "chunked"))
        } else {
            body = .closeDelimited
            keepAlive = false
        }
        if !keepAlive {
            fields.append(HTTPField(name: "Connection", value: "close"))
        } else if requestVersion == .http10 {
            fields.append(HTTPField(name: "Connection", value: "keep-alive"))
        }
        return ResponseFraming(fields: fields, body: body, keepAlive: keepAlive)
    }
}
