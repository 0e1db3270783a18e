import GatewayCore
import GatewayHTTP

/// A complete response the gateway makes itself (a refusal, an error, an admin answer):
/// status, fields without framing, and a fixed body. Framing (`Content-Length`,
/// `Connection`) is added when it is serialized.
public struct GatewayResponse: Sendable, Equatable {
    public var status: Int
    public var fields: [HTTPField]
    public var body: [UInt8]

    public init(status: Int, fields: [HTTPField], body: [UInt8]) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    public static let jsonContentType = HTTPField(name: "Content-Type", value: "application/json")

    /// `{"error":…,"error_description":…}` with `Content-Type: application/json`.
    static func json(_ status: Int, error: String, description: String) -> GatewayResponse {
        GatewayResponse(status: status, fields: [jsonContentType], body: Refusal.jsonBody(error: error, description: description))
    }

    /// Head and body bytes. A response to HEAD has no body, but its `Content-Length` still
    /// says how long it would be (RFC 9110 §9.3.2).
    /// - Parameters:
    ///   - close: adds `Connection: close` (the connection ends after it).
    ///   - keepAliveFor10: adds `Connection: keep-alive` (an HTTP/1.0 client that asked for it).
    func serialized(requestMethod: String, close: Bool, keepAliveFor10: Bool = false) -> [UInt8] {
        var all = fields
        // RFC 9110 §8.6: no Content-Length in a 204 (a CORS preflight answer).
        if status != 204 { all.append(HTTPField(name: "Content-Length", value: String(body.count))) }
        if close {
            all.append(HTTPField(name: "Connection", value: "close"))
        } else if keepAliveFor10 {
            all.append(HTTPField(name: "Connection", value: "keep-alive"))
        }
        var out = HTTPResponseHead(status: status, fields: all, version: .http11).serialized()
        if requestMethod != "HEAD" { out.append(contentsOf: body) }
        return out
    }
}
