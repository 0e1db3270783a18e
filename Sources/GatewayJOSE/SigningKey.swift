internal import COpenSSL

/// A private key that signs tokens: for `gateway token mint`, `gateway demo` and tests.
public final class SigningKey: @unchecked Sendable {
    let material: VerificationKey.Material

    init(material: VerificationKey.Material) { self.material = material }

    /// Loads a PKCS#8 (or traditional) PEM private key (RSA ≥ 2048 bits, EC P-256/384/521,
    /// Ed25519). Encrypted keys are refused (no pass phrase prompt).
    /// - Throws: `KeyLoadError` when not a readable, supported private key.
    public static func privateKeyPEM(_ pem: [UInt8]) throws(KeyLoadError) -> SigningKey {
        let labels = KeyImport.pemLabels(pem)
        guard labels.count == 1, labels[0].hasSuffix("PRIVATE KEY") else {
            throw KeyLoadError.invalid(labels.isEmpty ? "not a PEM file" : "PEM must hold exactly one private key")
        }
        guard let key = KeyImport.readPEM(pem, privateKey: true) else {
            throw OpenSSLErrorQueue.keyLoadError("PEM private key not readable (encrypted keys are not supported)")
        }
        switch try KeyImport.kind(of: key) {
        case .rsa: return SigningKey(material: .rsa(key))
        case .ec(let curve): return SigningKey(material: .ec(key, curve))
        case .ed25519: return SigningKey(material: .ed25519(key))
        }
    }

    /// Raw HMAC secret bytes for HS*.
    public static func hmac(_ secret: [UInt8]) -> SigningKey { SigningKey(material: .secret(secret)) }

    /// A fresh key for `alg` (RSA 2048, the alg's curve, Ed25519, or 64 random bytes).
    /// - Throws: `KeyLoadError` when OpenSSL cannot generate it.
    public static func generate(for alg: JWSAlgorithm) throws(KeyLoadError) -> SigningKey {
        switch alg.family {
        case .hmac:
            var secret = [UInt8](repeating: 0, count: 64)
            guard RAND_bytes(&secret, Int32(secret.count)) == 1 else { throw OpenSSLErrorQueue.keyLoadError("RAND_bytes failed") }
            return SigningKey(material: .secret(secret))
        case .rsaPKCS1, .rsaPSS:
            return SigningKey(material: .rsa(try keygen("RSA") { EVP_PKEY_CTX_set_rsa_keygen_bits($0, 2048) == 1 }))
        case .ecdsa:
            let curve = alg.curve!
            return SigningKey(material: .ec(try keygen("EC") { EVP_PKEY_CTX_set_group_name($0, curve.jwkName) == 1 }, curve))
        case .eddsa:
            return SigningKey(material: .ed25519(try keygen("ED25519") { _ in true }))
        }
    }

    private static func keygen(_ type: String, _ configure: (OpaquePointer) -> Bool) throws(KeyLoadError) -> EVPKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw OpenSSLErrorQueue.keyLoadError("no \(type) key generator") }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(ctx) == 1, configure(ctx), EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else {
            throw OpenSSLErrorQueue.keyLoadError("\(type) key generation failed")
        }
        return EVPKey(taking: pkey)
    }

    /// The verification key matching this key (public half, or the same secret), with `keyID`.
    public func verificationKey(keyID: String?) -> VerificationKey {
        VerificationKey(keyID: keyID, material: material)
    }

    /// Whether this key can sign with `alg` (same rules as `VerificationKey.fits`).
    public func fits(_ alg: JWSAlgorithm) -> Bool {
        VerificationKey(keyID: nil, material: material, prepareContexts: false).fits(alg)
    }

    /// Signs `signingInput` with `algorithm` into the JWS signature bytes (ECDSA as R‖S,
    /// RFC 7518 §3.4).
    /// - Throws: `KeyLoadError` when the key does not fit `algorithm` or signing fails.
    public func signature(algorithm: JWSAlgorithm, signingInput: [UInt8]) throws(KeyLoadError) -> [UInt8] {
        guard fits(algorithm) else { throw KeyLoadError.invalid("the key does not fit \(algorithm.rawValue)") }
        switch material {
        case .rsa(let key), .ed25519(let key):
            return try EVPSignature.sign(key: key, algorithm: algorithm, message: signingInput)
        case .ec(let key, let curve):
            let der = try EVPSignature.sign(key: key, algorithm: algorithm, message: signingInput)
            guard let raw = EVPSignature.ecdsaDERToRaw(der, curve: curve) else { throw KeyLoadError.invalid("ECDSA signature not decodable") }
            return raw
        case .secret(let secret):
            let mac = signingInput.withUnsafeBufferPointer { EVPSignature.hmac(algorithm: algorithm, key: secret, message: $0) }
            guard let mac else { throw KeyLoadError.invalid("HMAC failed") }
            return mac
        }
    }

    /// Signs `claims` (a JSON object) into a compact JWS with header {alg, typ: JWT, kid?}
    /// (RFC 7515 §7.1).
    /// - Throws: `KeyLoadError` when the key does not fit `algorithm` or signing fails.
    public func sign(claims: JSONValue, algorithm: JWSAlgorithm, keyID: String?) throws(KeyLoadError) -> String {
        var header: [(String, JSONValue)] = [("alg", .string(algorithm.rawValue)), ("typ", .string("JWT"))]
        if let keyID { header.append(("kid", .string(keyID))) }
        return try sign(header: .object(header), payload: JSONWriter.bytes(claims), algorithm: algorithm)
    }

    /// Signs arbitrary `payload` bytes under `header` (which should name `algorithm`):
    /// for tests that need unusual headers.
    public func sign(header: JSONValue, payload: [UInt8], algorithm: JWSAlgorithm) throws(KeyLoadError) -> String {
        let input = Base64URL.encode(JSONWriter.bytes(header)) + "." + Base64URL.encode(payload)
        let sig = try signature(algorithm: algorithm, signingInput: Array(input.utf8))
        return input + "." + Base64URL.encode(sig)
    }

    /// The public JWK (RFC 7517 §4) for this key, as a JSON object with `kid` and `alg` if given.
    /// nil for HMAC keys.
    public func publicJWK(keyID: String?, algorithm: JWSAlgorithm?) -> JSONValue? {
        var members: [(String, JSONValue)]
        switch material {
        case .secret:
            return nil
        case .rsa(let key):
            guard let n = key.bigNumberParameter("n"), let e = key.bigNumberParameter("e") else { return nil }
            members = [("kty", .string("RSA")), ("n", .string(Base64URL.encode(n))), ("e", .string(Base64URL.encode(e)))]
        case .ec(let key, let curve):
            guard let x = key.bigNumberParameter("qx", pad: curve.size),
                  let y = key.bigNumberParameter("qy", pad: curve.size) else { return nil }
            members = [("kty", .string("EC")), ("crv", .string(curve.jwkName)),
                       ("x", .string(Base64URL.encode(x))), ("y", .string(Base64URL.encode(y)))]
        case .ed25519(let key):
            guard let x = key.rawPublicKey else { return nil }
            members = [("kty", .string("OKP")), ("crv", .string("Ed25519")), ("x", .string(Base64URL.encode(x)))]
        }
        members.append(("use", .string("sig")))
        if let keyID { members.append(("kid", .string(keyID))) }
        if let algorithm { members.append(("alg", .string(algorithm.rawValue))) }
        return .object(members)
    }
}
