import GatewayJOSE
import GatewayTestSupport

/// Mints tokens with exact header and payload text (for hostile shapes the signer would
/// never produce), signed by a real key.
struct TokenFactory {
    var key: SigningKey
    var algorithm: JWSAlgorithm

    func token(header: String, payload: String) throws -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let sig = try key.signature(algorithm: algorithm, signingInput: Array(input.utf8))
        return input + "." + Base64URL.encode(sig)
    }

    /// A token with `{"alg":…,"typ":"JWT","kid":"k1"}` and the standard claims plus `extra`
    /// (JSON members text, e.g. `"nbf":5`); `exp` and `iat` replaced when given in `claims`.
    func token(claims: String? = nil, extra: String = "") throws -> String {
        let body = claims ?? #""iss":"\#(Fixtures.issuer)","aud":"\#(Fixtures.audience)","sub":"u","iat":1700000000,"exp":4102444800"#
        return try token(header: #"{"alg":"\#(algorithm.rawValue)","typ":"JWT","kid":"k1"}"#,
                         payload: "{" + body + (extra.isEmpty ? "" : "," + extra) + "}")
    }
}

/// Standard claims text without `exp`, for tests that set it themselves.
let claimsWithoutExp = #""iss":"https://issuer.test.example/","aud":"orders-api","sub":"u","iat":1700000000"#
