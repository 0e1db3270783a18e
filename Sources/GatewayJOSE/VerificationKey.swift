/// A public key (or HMAC secret) usable to verify JWS signatures, owning its `EVP_PKEY`.
///
/// Made only by `KeySet` (JWK, PEM, secret), with all checks done at load; immutable after.
public final class VerificationKey: @unchecked Sendable {
    /// The key material: the key type fixes the algorithms it may verify (RFC 8725 §3.1).
    enum Material {
        case rsa(EVPKey)
        case ec(EVPKey, ECCurve)
        case ed25519(EVPKey)
        case secret([UInt8])
    }

    /// `kid` (RFC 7515 §4.1.4); nil when the key has none.
    public let keyID: String?
    /// True for a `public_key_file` / `secret_env` key configured without `key_id`:
    /// a token's `kid` is then not used to select it (docs/request-handling.md, Keys).
    public let matchesAnyKeyID: Bool
    let material: Material
    /// JWK `use` is "sig" or absent, and `key_ops` (if any) holds "verify" (RFC 7517 §4.2–4.3).
    let usableForVerification: Bool
    /// JWK `alg` (RFC 7517 §4.4): nil = any algorithm fitting the key type; `.some(nil)`
    /// = an algorithm this gateway does not implement, so nothing fits.
    let restrictedAlgorithm: JWSAlgorithm??
    /// Verification contexts prepared at load for each algorithm the key fits (not for
    /// secrets): the hot path copies one instead of re-running EVP_DigestVerifyInit.
    private let contexts: [JWSAlgorithm: VerifyContext]

    init(keyID: String?, material: Material, matchesAnyKeyID: Bool = false,
         usableForVerification: Bool = true, restrictedAlgorithm: JWSAlgorithm?? = nil, prepareContexts: Bool = true) {
        self.keyID = keyID
        self.material = material
        self.matchesAnyKeyID = matchesAnyKeyID
        self.usableForVerification = usableForVerification
        self.restrictedAlgorithm = restrictedAlgorithm
        var contexts: [JWSAlgorithm: VerifyContext] = [:]
        if prepareContexts, let key = Self.evpKey(material) {
            for alg in JWSAlgorithm.allCases
            where Self.fits(alg, material: material, usable: usableForVerification, restricted: restrictedAlgorithm) {
                contexts[alg] = VerifyContext(key: key, algorithm: alg)
            }
        }
        self.contexts = contexts
    }

    private static func evpKey(_ material: Material) -> EVPKey? {
        switch material {
        case .rsa(let key), .ed25519(let key), .ec(let key, _): key
        case .secret: nil
        }
    }

    /// EVP verification through the prepared context, else a fresh init.
    private func evpVerify(_ key: EVPKey, _ algorithm: JWSAlgorithm,
                           _ message: UnsafeBufferPointer<UInt8>, _ signature: UnsafeBufferPointer<UInt8>) -> Bool {
        if let context = contexts[algorithm] { return context.verify(message: message, signature: signature) }
        return EVPSignature.verify(key: key, algorithm: algorithm, message: message, signature: signature)
    }

    /// JWK `kty` of the key: "RSA", "EC", "OKP" or "oct" (RFC 7518 §6.1, RFC 8037 §2).
    public var keyType: String {
        switch material {
        case .rsa: "RSA"
        case .ec: "EC"
        case .ed25519: "OKP"
        case .secret: "oct"
        }
    }

    /// Whether this key may verify a token with `alg` (type, curve, `use`, `key_ops`, JWK `alg`).
    /// RSA for RS*/PS*, the matching NIST curve for ES*, Ed25519 for EdDSA, a secret at least
    /// as long as the hash for HS* (RFC 7518 §3.2–3.5, RFC 8037 §3.1).
    public func fits(_ alg: JWSAlgorithm) -> Bool {
        Self.fits(alg, material: material, usable: usableForVerification, restricted: restrictedAlgorithm)
    }

    private static func fits(_ alg: JWSAlgorithm, material: Material, usable: Bool, restricted: JWSAlgorithm??) -> Bool {
        guard usable else { return false }
        if let restricted, restricted != alg { return false }
        switch (material, alg.family) {
        case (.rsa, .rsaPKCS1), (.rsa, .rsaPSS): return true
        case (.ec(_, let curve), .ecdsa): return curve == alg.curve
        case (.ed25519, .eddsa): return true
        case (.secret(let k), .hmac): return k.count >= alg.hashSize
        default: return false
        }
    }

    /// Verifies `signature` over `signingInput` (the ASCII `header.payload`, RFC 7515 §5.2
    /// step 8) with `algorithm`, which must fit this key. ECDSA signatures are R‖S
    /// (RFC 7518 §3.4); DER, wrong lengths, R or S of 0 or ≥ the group order are refused.
    public func verify(algorithm: JWSAlgorithm, signingInput: [UInt8], signature: [UInt8]) -> Bool {
        signingInput.withUnsafeBufferPointer { m in
            signature.withUnsafeBufferPointer { s in verify(algorithm: algorithm, message: m, signature: s) }
        }
    }

    func verify(algorithm: JWSAlgorithm, message: UnsafeBufferPointer<UInt8>, signature: UnsafeBufferPointer<UInt8>) -> Bool {
        guard fits(algorithm) else { return false }
        switch material {
        case .rsa(let key):
            // RFC 8017 §8.1.2 / §8.2.2 step 1: exactly k octets. OpenSSL's PSS path would
            // accept a signature with leading zero octets stripped.
            guard signature.count == key.maxSignatureSize else { return false }
            return evpVerify(key, algorithm, message, signature)
        case .ed25519(let key):
            guard signature.count == 64 else { return false } // RFC 8032 §5.1.7
            return evpVerify(key, algorithm, message, signature)
        case .ec(let key, let curve):
            guard let der = EVPSignature.ecdsaRawToDER(signature, curve: curve) else { return false }
            return der.withUnsafeBufferPointer { evpVerify(key, algorithm, message, $0) }
        case .secret(let secret):
            return EVPSignature.verifyHMAC(algorithm: algorithm, key: secret, message: message, signature: signature)
        }
    }
}
