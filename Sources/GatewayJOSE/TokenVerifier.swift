/// Compact JWS verification (RFC 7515 §5.2, RFC 7519 §7.2, RFC 8725).
public enum TokenVerifier {
    /// Latest `exp`/`nbf`/`iat` accepted: 9999-12-31T23:59:59Z, seconds since the epoch.
    public static let maxNumericDate: Double = 253_402_300_799

    /// Reads `iss` from the payload without verifying anything, only to choose an issuer.
    /// - Returns: the `iss` string, nil when absent or not a string.
    /// - Throws: `TokenError.malformed` when the token is not a well-formed compact JWS
    ///   whose payload is a JSON object.
    public static func unverifiedIssuer(_ token: Substring) throws(TokenError) -> String? {
        try parseUnverified(token).issuer
    }

    /// Splits `token` and parses its payload once, for `UnverifiedToken.issuer` and then
    /// `verify(_:keys:requirements:now:)`.
    /// - Throws: `TokenError.malformed` when over 8 KiB, not three strict base64url parts,
    ///   or the payload is not a JSON object (the errors of `unverifiedIssuer`).
    public static func parseUnverified(_ token: Substring) throws(TokenError) -> UnverifiedToken {
        try withBytes(token) { (b) throws(TokenError) -> UnverifiedToken in
            let parts = try JWSCompact.split(b)
            let claims = try claimsObject(parts.payload)
            return UnverifiedToken(token: token, header: parts.header, claims: claims,
                                   signingInputCount: parts.signingInput.count, signature: parts.signature)
        }
    }

    /// `verify(_:keys:requirements:now:)` of a token already split by `parseUnverified`:
    /// steps 2–5 of it (the header is parsed here, so a bad header is refused as there).
    /// - Throws: `TokenError`.
    public static func verify(_ parsed: UnverifiedToken, keys: KeySet, requirements: TokenRequirements,
                              now: Double) throws(TokenError) -> VerifiedToken {
        let header = try headerObject(parsed.header)
        return try withBytes(parsed.token) { (b) throws(TokenError) -> VerifiedToken in
            try verify(header: header, claims: parsed.claims,
                       message: UnsafeBufferPointer(rebasing: b[0..<parsed.signingInputCount]),
                       signature: parsed.signature, keys: keys, requirements: requirements, now: now)
        }
    }

    /// Verifies shape, header (`alg` allowlist, `crit`, `typ`), key selection by `kid`,
    /// signature, then `exp`/`nbf`/`iat`/`iss`/`aud`/lifetime at time `now`.
    ///
    /// Order (each step fails closed with the first error):
    /// 1. ≤ 8 KiB, three base64url parts, header and payload JSON objects → `.malformed`;
    /// 2. `alg` a string naming an allowed `JWSAlgorithm` → else `.algorithm`
    ///    (`none` is not a `JWSAlgorithm`); `crit` present → `.crit` (RFC 7515 §4.1.11);
    ///    `typ` present and not `JWT`/`at+jwt` (case-insensitive) → `.type`;
    /// 3. key: with `kid`, the keys whose `keyID` equals it plus keys configured to ignore
    ///    `kid` (none → `.unknownKey`, none fitting `alg` → `.algorithm`); without `kid`,
    ///    exactly one key fitting `alg` (else `.unknownKey`). `jku`/`x5u`/`jwk`/`x5c` are
    ///    never used (RFC 8725 §3.10);
    /// 4. signature → `.signature`;
    /// 5. claims (RFC 7519 §4.1): `exp`/`nbf`/`iat` JSON numbers in 0...9999-12-31
    ///    (`.malformedClaim`), `exp` required if `requireExp` (`.missingExp`), expired when
    ///    `now - skew >= exp`, `.notYetValid` when `nbf > now + skew`, `.iatInFuture` when
    ///    `iat > now + skew`, `iss` exact (`.issuer`), `aud` (`.audience`), lifetime
    ///    `exp - (iat ?? now)` over the maximum (`.lifetime`).
    /// - Parameters:
    ///   - token: the compact serialization (≤ 8 KiB).
    ///   - now: seconds since the Unix epoch.
    /// - Throws: `TokenError`.
    public static func verify(_ token: Substring, keys: KeySet, requirements: TokenRequirements, now: Double) throws(TokenError) -> VerifiedToken {
        try withBytes(token) { (b) throws(TokenError) -> VerifiedToken in
            try verify(bytes: b, keys: keys, requirements: requirements, now: now)
        }
    }

    /// Runs `body` on the token's UTF-8 bytes without copying when the storage allows.
    private static func withBytes<T>(_ token: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws(TokenError) -> T) throws(TokenError) -> T {
        guard token.utf8.count <= JWSCompact.maxTokenBytes else { throw TokenError.malformed("token over 8 KiB") }
        let result: Result<T, TokenError>? = token.utf8.withContiguousStorageIfAvailable { b in
            Result { () throws(TokenError) -> T in try body(b) }
        }
        if let result { return try result.get() }
        return try Array(token.utf8).withUnsafeBufferPointer { (b) throws(TokenError) -> T in try body(b) }
    }

    private static func claimsObject(_ payload: [UInt8]) throws(TokenError) -> JSONValue {
        let claims = try JSONReader.parse(payload)
        guard case .object = claims else { throw TokenError.malformed("payload is not a JSON object") }
        return claims
    }

    private static func verify(bytes b: UnsafeBufferPointer<UInt8>, keys: KeySet, requirements: TokenRequirements,
                               now: Double) throws(TokenError) -> VerifiedToken {
        // 1. Shape (RFC 7515 §5.2 steps 1–7).
        let parts = try JWSCompact.split(b)
        let header = try headerObject(parts.header)
        let claims = try claimsObject(parts.payload)
        return try verify(header: header, claims: claims, message: UnsafeBufferPointer(rebasing: b[parts.signingInput]),
                          signature: parts.signature, keys: keys, requirements: requirements, now: now)
    }

    private static func headerObject(_ bytes: [UInt8]) throws(TokenError) -> JSONValue {
        let header = try JSONReader.parse(bytes)
        guard case .object = header else { throw TokenError.malformed("header is not a JSON object") }
        return header
    }

    /// Steps 2–5 of `verify` on a split token: `message` is the JWS Signing Input.
    private static func verify(header: JSONValue, claims: JSONValue, message: UnsafeBufferPointer<UInt8>,
                               signature: [UInt8], keys: KeySet, requirements: TokenRequirements,
                               now: Double) throws(TokenError) -> VerifiedToken {
        // 2. Header (RFC 8725 §3.1, RFC 7515 §4.1.11, RFC 8725 §3.11).
        guard let algValue = header[member: "alg"] else { throw TokenError.malformed("header has no alg") }
        guard case .string(let algName) = algValue,
              // `init(rawValue:)` compares with `==` (canonical equivalence): then exactly.
              let alg = JWSAlgorithm(rawValue: algName), alg.rawValue.exactlyEquals(algName),
              requirements.algorithms.contains(alg) else {
            throw TokenError.algorithm("alg not allowed")
        }
        if header[member: "crit"] != nil { throw TokenError.crit }
        if let typ = header[member: "typ"] {
            guard case .string(let t) = typ, asciiLowercased(t) == "jwt" || asciiLowercased(t) == "at+jwt" else {
                throw TokenError.type
            }
        }

        // 3. Key: configuration fixes the key and so the algorithm (RFC 8725 §3.1).
        var candidates: [VerificationKey] = []
        if let kidValue = header[member: "kid"] {
            guard case .string(let kid) = kidValue else { throw TokenError.malformed("kid is not a string") }
            let named = keys.keys.filter { $0.keyID.map { $0.exactlyEquals(kid) } ?? $0.matchesAnyKeyID }
            if named.isEmpty { throw TokenError.unknownKey }
            candidates = named.filter { $0.fits(alg) }
            if candidates.isEmpty { throw TokenError.algorithm("key does not fit alg") }
        } else {
            candidates = keys.keys.filter { $0.fits(alg) }
            guard candidates.count == 1 else { throw TokenError.unknownKey }
        }

        // 4. Signature, before any claim is trusted (RFC 7515 §5.2 step 8).
        let verified = signature.withUnsafeBufferPointer { sig in
            // Several keys only when a JWK Set repeats a kid (rotation); each is trusted.
            candidates.prefix(KeySet.maxKeysPerKeyID).contains { $0.verify(algorithm: alg, message: message, signature: sig) }
        }
        guard verified else { throw TokenError.signature }

        // 5. Claims (RFC 7519 §4.1, §7.2 step 10).
        try checkClaims(claims, requirements: requirements, now: now)
        return VerifiedToken(header: header, claims: claims, algorithm: alg)
    }

    /// A NumericDate claim (RFC 7519 §2): absent → nil; else a finite JSON number in
    /// 0...9999-12-31, or `.malformedClaim(name)`.
    private static func numericDate(_ claims: JSONValue, _ name: String) throws(TokenError) -> Double? {
        guard let v = claims[member: name] else { return nil }
        // Time arithmetic is in Double: a value too large for it is +infinity, out of range.
        guard case .number(let n) = v else { throw TokenError.malformedClaim(name) }
        let d = n.doubleValue
        guard d.isFinite, d >= 0, d <= maxNumericDate else { throw TokenError.malformedClaim(name) }
        return d
    }

    /// Re-runs step 5 (claims, including the time-dependent `exp`/`nbf`/`iat` checks) on a
    /// token verified earlier, e.g. one taken from a verified-token cache.
    /// - Parameter now: seconds since the Unix epoch.
    /// - Throws: `TokenError` as `verify` does in step 5.
    public static func checkClaims(of token: VerifiedToken, requirements: TokenRequirements, now: Double) throws(TokenError) {
        try checkClaims(token.claims, requirements: requirements, now: now)
    }

    /// The `exp` claim when it is a valid NumericDate, else nil.
    public static func expiry(of token: VerifiedToken) -> Double? {
        try? numericDate(token.claims, "exp")
    }

    static func checkClaims(_ claims: JSONValue, requirements r: TokenRequirements, now: Double) throws(TokenError) {
        let exp = try numericDate(claims, "exp")
        let nbf = try numericDate(claims, "nbf")
        let iat = try numericDate(claims, "iat")
        if r.requireExp && exp == nil { throw TokenError.missingExp }
        try checkTimes(exp: exp, nbf: nbf, iat: iat, requirements: r, now: now)

        guard case .string(let iss)? = claims[member: "iss"], iss.exactlyEquals(r.issuer) else { throw TokenError.issuer }

        if !r.audiences.isEmpty {
            // RFC 7519 §4.1.3: a string or an array of strings.
            switch claims[member: "aud"] {
            case .string(let aud)?:
                guard r.audiences.containsExactly(aud) else { throw TokenError.audience }
            case .array(let items)?:
                var names: [String] = []
                for item in items {
                    guard case .string(let s) = item else { throw TokenError.malformedClaim("aud") }
                    names.append(s)
                }
                guard names.contains(where: { r.audiences.containsExactly($0) }) else { throw TokenError.audience }
            case nil:
                throw TokenError.audience
            default:
                throw TokenError.malformedClaim("aud")
            }
        }

        try checkLifetime(exp: exp, iat: iat, requirements: r, now: now)
    }

    /// The time window of a token at `now` (seconds since the epoch), with the requirements'
    /// clock skew: before `exp` (RFC 7519 §4.1.4), not before `nbf` (§4.1.5), `iat` not in
    /// the future (§4.1.6). The part of `checkClaims` that changes with time, for a token
    /// verified earlier whose NumericDates were kept.
    /// - Throws: `TokenError.expired`, `.notYetValid` or `.iatInFuture`.
    public static func checkTimes(exp: Double?, nbf: Double?, iat: Double?, requirements r: TokenRequirements,
                                  now: Double) throws(TokenError) {
        let skew = max(0, r.clockSkew)
        // RFC 7519 §4.1.4: the current time must be before exp (plus leeway).
        if let exp, now - skew >= exp { throw TokenError.expired }
        if let nbf, nbf > now + skew { throw TokenError.notYetValid }
        if let iat, iat > now + skew { throw TokenError.iatInFuture }
    }

    /// `max_token_lifetime`: `exp` minus `iat` (or `now` without `iat`) within the maximum.
    /// - Throws: `TokenError.lifetime`, also for a token without `exp` under a maximum.
    public static func checkLifetime(exp: Double?, iat: Double?, requirements r: TokenRequirements,
                                     now: Double) throws(TokenError) {
        guard let maxLifetime = r.maxTokenLifetime else { return }
        // A token without exp lives forever: over any maximum.
        guard let exp else { throw TokenError.lifetime }
        if exp - (iat ?? now) > maxLifetime { throw TokenError.lifetime }
    }

    private static func asciiLowercased(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
