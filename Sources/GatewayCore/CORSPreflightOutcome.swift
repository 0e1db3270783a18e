import GatewayHTTP

/// The gateway's own answer to a CORS preflight (`CORSPolicy.evaluatePreflight`).
public enum CORSPreflightOutcome: Sendable, Equatable {
    /// `204 No Content` with these fields (`Access-Control-Allow-*`, `Vary`); no body.
    case allowed(fields: [HTTPField])
    /// `403` without any `Access-Control-*` field: the browser then blocks the request.
    case refused(DenialReason)
}
