import GatewayCore
import GatewayHTTP

/// Every way an exchange (one request and its response) ends. The access-log line, the
/// metrics and every response the gateway makes itself come from this one value.
///
/// Closed on purpose: a new way to end an exchange is a new case, and every `switch` over it
/// (no `default:`) tells where it needs a status, a decision and a reason code.
enum Outcome: Sendable, Equatable {
    /// The upstream's response was relayed in full.
    case forwarded
    /// Like `forwarded`, for a request a report-only route (`auth.mode: report_only`) would
    /// have refused for this reason: it went upstream without identity headers and token.
    case forwardedReportOnly(DenialReason)
    /// A local responder (admin endpoint, demo echo) answered.
    case served
    /// A CORS preflight the route allows, answered by the gateway: `204` with these
    /// `Access-Control-Allow-*` fields, no body, no upstream (docs/browser-apps.md).
    case corsPreflight(fields: [HTTPField])
    /// Refused by policy; the refusal carries its `DenialReason`, status, fields and body.
    case denied(Refusal)
    /// The request was not valid HTTP/1.1 (RFC 9112), or the parser refused it.
    case malformedRequest(HTTPParseError)
    /// The request body passed `limits.max_body_bytes`: 413.
    case bodyTooLarge
    /// No request body progress within `limits.body_timeout`: 408.
    case bodyTimeout
    /// The request head did not arrive within `limits.header_timeout`: 408.
    case headerTimeout
    /// The upstream could not give a usable response, or failed in the middle of one.
    case upstreamFailed(UpstreamFailure)
    /// The client went away (end of input or a reset) before the response was complete.
    case clientClosed
    /// The client read nothing of the response for `limits.idle_timeout`: abandoned.
    case writeTimeout
    /// The gateway shut down and `limits.drain_timeout` ran out before the response ended.
    case drainTimeout

    /// The `decision` of the access log and metrics.
    var decision: RequestRecord.Decision {
        switch self {
        case .forwarded, .served, .corsPreflight: .allow
        case .forwardedReportOnly: .wouldDeny
        case .denied: .deny
        case .malformedRequest, .bodyTooLarge, .bodyTimeout, .headerTimeout, .upstreamFailed, .clientClosed,
             .writeTimeout, .drainTimeout: .error
        }
    }

    /// The `reason` of the access log and metrics: one of a fixed set of codes (a metric
    /// label must stay bounded).
    var reasonCode: String {
        switch self {
        case .forwarded, .served: "ok"
        case .corsPreflight: "cors_preflight"
        case .forwardedReportOnly(let reason): reason.code
        case .denied(let refusal): refusal.reason.code
        case .malformedRequest(let error): Outcome.errorCode(error)
        case .bodyTooLarge: "body_too_large"
        case .bodyTimeout: "body_timeout"
        case .headerTimeout: "header_timeout"
        case .upstreamFailed(let failure): failure.reasonCode
        case .clientClosed: "client_closed"
        case .writeTimeout: "write_timeout"
        case .drainTimeout: "drain_timeout"
        }
    }

    /// The response the gateway sends for this outcome, or nil when there is none to make:
    /// the upstream's response was relayed (or was being relayed and is cut short), or
    /// nobody is left to read one.
    var response: GatewayResponse? {
        switch self {
        case .forwarded, .forwardedReportOnly, .served, .clientClosed, .writeTimeout, .drainTimeout:
            return nil
        case .denied(let refusal):
            return GatewayResponse(status: refusal.status, fields: refusal.fields, body: refusal.body)
        case .corsPreflight(let fields):
            return GatewayResponse(status: 204, fields: fields, body: [])
        case .malformedRequest(let error):
            var fields = [GatewayResponse.jsonContentType]
            if case .methodNotAllowed = error {
                // RFC 9110 §15.5.6: a 405 lists what is allowed; everything but CONNECT may be routed.
                fields.append(HTTPField(name: "Allow", value: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"))
            }
            return GatewayResponse(status: error.status, fields: fields,
                                   body: Refusal.jsonBody(error: Outcome.errorCode(error), description: error.reason))
        case .bodyTooLarge:
            return .json(413, error: "payload_too_large", description: "request body too large")
        case .bodyTimeout:
            return .json(408, error: "request_timeout", description: "request body not received in time")
        case .headerTimeout:
            return .json(408, error: "request_timeout", description: "request head not received in time")
        case .upstreamFailed(let failure):
            switch failure {
            case .timeout:
                return .json(504, error: "gateway_timeout", description: "upstream timed out")
            case .unreachable, .invalidResponse:
                return .json(502, error: "bad_gateway", description: "upstream unavailable or invalid response")
            case .abortedMidBody:
                return nil  // the head went out: the connection is closed instead
            }
        }
    }

    /// The JSON `error` code (and log reason) of a parser refusal.
    static func errorCode(_ error: HTTPParseError) -> String {
        switch error {
        case .badRequest: "bad_request"
        case .headerTooLarge: "request_header_fields_too_large"
        case .uriTooLong: "uri_too_long"
        case .versionNotSupported: "http_version_not_supported"
        case .notImplemented: "not_implemented"
        case .expectationFailed: "expectation_failed"
        case .contentTooLarge: "payload_too_large"
        case .methodNotAllowed: "method_not_allowed"
        }
    }
}
