import GatewayCore
import GatewayHTTP
import GatewayPolicy
import GatewayTracing
import GatewayUpstream

/// State of one request/response exchange on a connection.
final class Exchange: @unchecked Sendable {
    let head: HTTPRequestHead
    let maxBody: Int
    let started: Double
    var transfer: UpstreamTransfer?
    /// The connection, for the transfer's events (`Exchange+TransferEvents.swift`).
    weak var connection: ClientConnection?
    /// Request body bytes received from the client and not yet taken by libcurl.
    var requestBody = ByteQueue(highWater: ClientConnection.requestBodyHighWater,
                                lowWater: ClientConnection.requestBodyLowWater)
    /// The whole body of a request a local responder answers.
    var localBody: [UInt8]?
    var received: UInt64 = 0
    /// Request bytes that were chunk framing, not payload.
    var framing: UInt64 = 0
    var requestComplete = false
    var responseStarted = false
    /// Where the response head starts in the connection's outbound queue (an absolute
    /// position) while none of it has been sent; nil once a byte of it left.
    var unsentResponseAt: UInt64?
    var responseBody = ResponseFraming.Body.none
    var keepAlive = false
    /// How the exchange ended; nil while it runs.
    var outcome: Outcome?
    // For the access log and metrics (one `RequestRecord` per exchange).
    var requestID = ""
    /// The method and target the access log shows instead of the head's: on the decision
    /// listener, the original request the ingress asked about.
    var loggedRequest: (method: String, target: String)?
    var routeName: String?
    var subject: String?
    /// The client's address when it is not the TCP peer (behind a trusted proxy).
    var clientAddress: String?
    /// Set when a report-only route forwards a request it would refuse (the reason).
    var wouldDeny: DenialReason?
    var status = 0
    var upstreamStarted: Double?
    var upstreamSeconds: Double?
    var bytesOut: UInt64 = 0
    /// W3C trace context (set when the head arrives).
    var trace: RequestTrace?
    /// The route's `cors` once the request was routed (not for a refused preflight): every
    /// response head of this exchange goes through `CORSPolicy.responseFields`.
    var cors: CORSConfig?
    /// The `Access-Control-Allow-*` fields of an allowed CORS preflight, answered with `204`
    /// once the (bodiless) request is complete.
    var preflightFields: [HTTPField]?

    init(head: HTTPRequestHead, maxBody: Int, started: Double) {
        self.head = head
        self.maxBody = maxBody
        self.started = started
    }
}
