// The value types of GatewayJOSE shared with the other modules. The verifier,
// keys and codecs live in their own files beside this one.

/// JWS `alg` values the gateway implements (RFC 7518 §3.1, RFC 8037 §3.1, RFC 9864 §2.2).
/// Closed: there is no `none`.
///
/// `EdDSA` (RFC 8037, polymorphic) and `Ed25519` (RFC 9864, fully specified) both verify
/// with an Ed25519 key, but they are distinct names: each must be in the issuer's
/// `algorithms` to be accepted, and a JWK whose `alg` names one does not verify the other.
public enum JWSAlgorithm: String, Sendable, CaseIterable, Hashable {
    case HS256, HS384, HS512
    case RS256, RS384, RS512
    case PS256, PS384, PS512
    case ES256, ES384, ES512
    case EdDSA
    case Ed25519
}

/// A JSON value from the strict reader (duplicate member names refused).
///
/// Not `indirect`: arrays and objects already keep their elements on the heap, and a string
/// or number held inline saves an allocation per value parsed.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// Every JSON number, exactly as written (`JSONNumber`: compared by exact value).
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    /// Members in document order (names are unique).
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// A number from a `Double` (for minting and tests): see `JSONNumber.init(_: Double)`;
    /// a non-finite value gives `null`, as JSON has no NaN or infinity.
    public static func number(_ value: Double) -> JSONValue {
        value.isFinite ? .number(JSONNumber(value)) : .null
    }

    /// Member `name` of an object, else nil.
    public subscript(member name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        // The name's bytes once, compared with each member's (exact, as `exactlyEquals`).
        var key = name
        return key.withUTF8 { k -> JSONValue? in
            for member in members where member.0.hasUTF8(k) { return member.1 }
            return nil
        }
    }
}

/// Why a token was refused. Every case is a 401 `invalid_token`.
public enum TokenError: Error, Sendable, Equatable {
    /// Not a compact JWS, bad base64url, not JSON objects, duplicate members, too large.
    case malformed(String)
    /// `alg` none/unknown/not allowed, or not fitting the key.
    case algorithm(String)
    /// No key with that `kid`, or no single key fits.
    case unknownKey
    case signature
    case expired
    case notYetValid
    case iatInFuture
    case missingExp
    /// A registered claim of the wrong type (`exp` as a string...). Names the claim.
    case malformedClaim(String)
    case issuer
    case audience
    case crit
    /// `typ` not JWT / at+jwt.
    case type
    /// exp - iat (or exp - now) over `max_token_lifetime`.
    case lifetime
    /// A claim destined for a header cannot be written there unchanged (a control
    /// character, leading/trailing whitespace, or a separator inside a list item). Names the claim.
    case unsafeClaim(String)
    /// `sub` absent, not a string, or empty, where the issuer requires one (RFC 7519 §4.1.2).
    case invalidSubject

    /// The `error_description` sent to the client: fixed text, never token bytes.
    public var description: String {
        switch self {
        case .malformed: "token malformed"
        case .algorithm: "algorithm not allowed"
        case .unknownKey: "unknown signing key"
        case .signature: "signature invalid"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid"
        case .iatInFuture: "token issued in the future"
        case .missingExp: "token has no expiry"
        case .malformedClaim(let c): "claim \(c) malformed"
        case .issuer: "issuer not accepted"
        case .audience: "audience not accepted"
        case .crit: "critical header not supported"
        case .type: "token type not accepted"
        case .lifetime: "token lifetime too long"
        case .unsafeClaim(let c): "claim \(c) cannot be forwarded as a header value"
        case .invalidSubject: "claim sub missing or not a non-empty string"
        }
    }

    /// Stable label for metrics and logs (e.g. "expired", "signature").
    public var reasonCode: String {
        switch self {
        case .malformed: "malformed"
        case .algorithm: "algorithm"
        case .unknownKey: "unknown_key"
        case .signature: "signature"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .iatInFuture: "iat_in_future"
        case .missingExp: "missing_exp"
        case .malformedClaim: "malformed_claim"
        case .issuer: "issuer"
        case .audience: "audience"
        case .crit: "crit"
        case .type: "type"
        case .lifetime: "lifetime"
        case .unsafeClaim: "unsafe_claim"
        case .invalidSubject: "invalid_sub"
        }
    }
}

/// Why keys could not be loaded (config errors).
public enum KeyLoadError: Error, Sendable, Equatable {
    case invalid(String)
}

/// What an issuer requires of a token (`issuers` in docs/configuration.md).
public struct TokenRequirements: Sendable {
    /// Exact, case-sensitive `iss`.
    public var issuer: String
    /// Token `aud` must contain one of these; empty = not checked.
    public var audiences: [String]
    public var algorithms: Set<JWSAlgorithm>
    /// Leeway for exp/nbf/iat, seconds.
    public var clockSkew: Double
    /// Seconds; nil = unlimited.
    public var maxTokenLifetime: Double?
    public var requireExp: Bool

    public init(issuer: String, audiences: [String], algorithms: Set<JWSAlgorithm>, clockSkew: Double = 30,
                maxTokenLifetime: Double? = nil, requireExp: Bool = true) {
        self.issuer = issuer
        self.audiences = audiences
        self.algorithms = algorithms
        self.clockSkew = clockSkew
        self.maxTokenLifetime = maxTokenLifetime
        self.requireExp = requireExp
    }
}

/// A token whose signature and registered claims were verified.
public struct VerifiedToken: Sendable {
    public var header: JSONValue
    /// The whole claims set (a JSON object).
    public var claims: JSONValue
    public var algorithm: JWSAlgorithm
    public init(header: JSONValue, claims: JSONValue, algorithm: JWSAlgorithm) {
        self.header = header
        self.claims = claims
        self.algorithm = algorithm
    }
}

