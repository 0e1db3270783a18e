/// A compact JWS split, its three parts base64url-decoded and its payload parsed as a JSON
/// object (RFC 7515 §5.2 steps 1–3 and 5), NOTHING verified: made once per token so that
/// choosing the issuer and verifying do not split and parse it twice.
///
/// Its `issuer` may only choose among configured issuers; the header, key, signature and
/// claims are checked by `TokenVerifier.verify(_:keys:requirements:now:)` before anything
/// in it is used.
public struct UnverifiedToken: Sendable {
    /// The compact serialization (the signature covers its first `signingInputCount` bytes).
    let token: Substring
    /// The decoded JOSE header bytes, parsed at verification.
    let header: [UInt8]
    /// The payload, a JSON object (duplicate member names refused).
    let claims: JSONValue
    /// Length of `BASE64URL(header) '.' BASE64URL(payload)` (RFC 7515 §5.1 step 6), bytes.
    let signingInputCount: Int
    /// The decoded signature.
    let signature: [UInt8]

    /// The unverified `iss` when it is a string, else nil: only to choose an issuer.
    public var issuer: String? {
        if case .string(let iss)? = claims[member: "iss"] { return iss }
        return nil
    }
}
