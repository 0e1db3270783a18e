/// The keys of one issuer.
public struct KeySet: Sendable {
    public var keys: [VerificationKey]
    /// One line per JWK skipped (bad member, unsupported kty...) and per `kid` several keys
    /// share. Safe to log: names the key's position, its `kid` when printable, and the
    /// fault; never key material.
    public var warnings: [String]

    public init(keys: [VerificationKey], warnings: [String] = []) {
        self.keys = keys
        self.warnings = warnings
    }

    /// Largest JWK Set document accepted (bytes).
    public static let maxJWKSetBytes = 1 << 20
    /// Most keys read from one JWK Set.
    public static let maxJWKSetKeys = 100

    /// A JWK Set document (RFC 7517 §5). Bad members are skipped with a warning.
    ///
    /// Accepted keys: `kty` RSA (`n`, `e`; ≥ 2048 bits), EC (`crv` P-256/P-384/P-521, `x`,
    /// `y`), OKP (`crv` Ed25519, `x`), oct (`k`). Keys holding private members (`d`, ...)
    /// are skipped: a verifier needs none. `use`/`key_ops`/`alg` restrict `fits(_:)`.
    /// - Throws: `KeyLoadError` when the document is not a JWK Set (including duplicate
    ///   member names), is too large, or no key is usable for verification.
    public static func jwkSet(json: [UInt8]) throws(KeyLoadError) -> KeySet {
        guard json.count <= maxJWKSetBytes else { throw KeyLoadError.invalid("JWK Set over \(maxJWKSetBytes) bytes") }
        let doc: JSONValue
        do { doc = try JSONReader.parse(json) } catch {
            throw KeyLoadError.invalid("JWK Set is not valid JSON (strict RFC 8259, duplicate members refused)")
        }
        guard case .object = doc else { throw KeyLoadError.invalid("JWK Set is not a JSON object") }
        guard case .array(let items)? = doc[member: "keys"] else {
            throw KeyLoadError.invalid("JWK Set has no \"keys\" array (RFC 7517 §5)")
        }
        guard items.count <= maxJWKSetKeys else { throw KeyLoadError.invalid("JWK Set holds over \(maxJWKSetKeys) keys") }
        var keys: [VerificationKey] = []
        var warnings: [String] = []
        for (index, item) in items.enumerated() {
            do {
                keys.append(try JWK.verificationKey(item))
            } catch {
                guard case .invalid(let why) = error else { continue }
                warnings.append("JWK #\(index)\(JWK.printableKeyID(item)): \(why); skipped")
            }
        }
        warnings += repeatedKeyIDWarnings(keys)
        guard keys.contains(where: { $0.usableForVerification }) else {
            throw KeyLoadError.invalid("JWK Set holds no usable signature verification key"
                + (warnings.isEmpty ? "" : " (" + warnings.joined(separator: " | ") + ")"))
        }
        return KeySet(keys: keys, warnings: warnings)
    }

    /// Most keys one token is checked against when a JWK Set repeats its `kid`
    /// (bounds the signature checks a single token can cost).
    public static let maxKeysPerKeyID = 4

    /// One warning per key ID that several keys of the set share (in order of first use).
    /// Such a set is accepted — during a rotation a provider may publish old and new key
    /// under one `kid` — and a token naming it is checked against each of those keys (at
    /// most `maxKeysPerKeyID`), but it is usually a mistake, so `check` and `serve` say so.
    static func repeatedKeyIDWarnings(_ keys: [VerificationKey]) -> [String] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for case let kid? in keys.map(\.keyID) {
            if counts[kid] == nil { order.append(kid) }
            counts[kid, default: 0] += 1
        }
        return order.compactMap { kid in
            guard let n = counts[kid], n > 1 else { return nil }
            let name = JWK.isPrintable(kid) ? "kid \"\(kid)\"" : "a kid"
            let limit = n > maxKeysPerKeyID ? " (only the first \(maxKeysPerKeyID))" : ""
            return "JWK Set repeats \(name) in \(n) keys: a token naming it is checked against each\(limit)"
        }
    }

    /// One SPKI PEM public key (RFC 7468 §13; RSA ≥ 2048 bits, EC P-256/384/521, Ed25519).
    /// With `keyID` nil the key is selected whatever a token's `kid` says (docs/request-handling.md, Keys).
    /// - Throws: `KeyLoadError` (private key or certificate given, several PEM blocks,
    ///   unsupported key type or size, not PEM).
    public static func publicKeyPEM(_ pem: [UInt8], keyID: String?) throws(KeyLoadError) -> KeySet {
        let labels = KeyImport.pemLabels(pem)
        if labels.contains(where: { $0.hasSuffix("PRIVATE KEY") }) {
            throw KeyLoadError.invalid("PEM holds a private key; give the public key (SPKI, \"BEGIN PUBLIC KEY\") instead")
        }
        if labels.contains(where: { $0.contains("CERTIFICATE") }) {
            throw KeyLoadError.invalid("PEM holds a certificate; give its public key (SPKI, \"BEGIN PUBLIC KEY\") instead")
        }
        guard labels.count == 1 else {
            throw KeyLoadError.invalid(labels.isEmpty ? "not a PEM file" : "PEM holds \(labels.count) blocks; exactly one public key expected")
        }
        guard labels[0] == "PUBLIC KEY" else {
            throw KeyLoadError.invalid("PEM block \"\(labels[0])\" is not an SPKI public key (\"BEGIN PUBLIC KEY\")")
        }
        guard let key = KeyImport.readPEM(pem, privateKey: false) else {
            throw OpenSSLErrorQueue.keyLoadError("PEM public key not readable")
        }
        let material: VerificationKey.Material
        switch try KeyImport.kind(of: key) {
        case .rsa: material = .rsa(key)
        case .ec(let curve): material = .ec(key, curve)
        case .ed25519: material = .ed25519(key)
        }
        return KeySet(keys: [VerificationKey(keyID: keyID, material: material, matchesAnyKeyID: keyID == nil)])
    }

    /// An HMAC secret for the HS* algorithms in `algorithms` (others are ignored).
    /// With `keyID` nil the key is selected whatever a token's `kid` says (docs/request-handling.md, Keys).
    /// - Throws: `KeyLoadError` when shorter than the hash output of any of them
    ///   (32/48/64 bytes for HS256/384/512, RFC 7518 §3.2).
    public static func hmacSecret(_ secret: [UInt8], keyID: String?, algorithms: [JWSAlgorithm]) throws(KeyLoadError) -> KeySet {
        let needed = algorithms.filter { $0.family == .hmac }.map(\.hashSize).max() ?? 32
        guard secret.count >= needed else {
            throw KeyLoadError.invalid("HMAC secret of \(secret.count) bytes: \(needed) required for "
                + algorithms.filter { $0.family == .hmac && $0.hashSize > secret.count }.map(\.rawValue).joined(separator: ", ")
                + " (RFC 7518 §3.2)")
        }
        return KeySet(keys: [VerificationKey(keyID: keyID, material: .secret(secret), matchesAnyKeyID: keyID == nil)])
    }
}
