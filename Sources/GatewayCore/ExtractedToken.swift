import GatewayPolicy

/// What `TokenExtraction.extract` found among a protected route's token sources.
public enum ExtractedToken: Sendable, Equatable {
    /// No source holds a token. `edits` still apply (an `Authorization` field that is not a
    /// listed source is never forwarded).
    case none(edits: [TokenFieldEdit])
    /// Exactly one token, from `source`; `edits` remove that source (unless `forward_token`)
    /// and the unlisted `Authorization`.
    case token(Substring, source: TokenSource, edits: [TokenFieldEdit])
    /// 400 `invalid_request` (RFC 6750 §2, §3.1): two tokens, a source present twice, or a
    /// malformed one. The text is fixed, never the request's bytes.
    case invalid(String)
}
