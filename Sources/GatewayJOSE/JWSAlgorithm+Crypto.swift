internal import COpenSSL

/// The SHA-2 digests, fetched from the default provider once per process: passing a
/// fetched `EVP_MD` avoids an implicit fetch (a lock and a lookup) on every verification.
enum Digests {
    nonisolated(unsafe) static let sha256: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)
    nonisolated(unsafe) static let sha384: OpaquePointer? = EVP_MD_fetch(nil, "SHA384", nil)
    nonisolated(unsafe) static let sha512: OpaquePointer? = EVP_MD_fetch(nil, "SHA512", nil)
}

extension JWSAlgorithm {
    /// How the algorithm signs (RFC 7518 §3.1, RFC 8037 §3.1, RFC 9864 §2.2).
    enum Family: Sendable { case hmac, rsaPKCS1, rsaPSS, ecdsa, eddsa }

    var family: Family {
        switch self {
        case .HS256, .HS384, .HS512: .hmac
        case .RS256, .RS384, .RS512: .rsaPKCS1
        case .PS256, .PS384, .PS512: .rsaPSS
        case .ES256, .ES384, .ES512: .ecdsa
        case .EdDSA, .Ed25519: .eddsa
        }
    }

    /// The SHA-2 digest; nil for EdDSA, which hashes internally (RFC 8032).
    var digest: OpaquePointer? {
        switch self {
        case .HS256, .RS256, .PS256, .ES256: Digests.sha256
        case .HS384, .RS384, .PS384, .ES384: Digests.sha384
        case .HS512, .RS512, .PS512, .ES512: Digests.sha512
        case .EdDSA, .Ed25519: nil
        }
    }

    /// Hash output size in bytes (also the HMAC minimum key size, RFC 7518 §3.2).
    var hashSize: Int {
        switch self {
        case .HS256, .RS256, .PS256, .ES256: 32
        case .HS384, .RS384, .PS384, .ES384: 48
        case .HS512, .RS512, .PS512, .ES512: 64
        case .EdDSA, .Ed25519: 64
        }
    }

    /// The curve ES* requires (RFC 7518 §3.4).
    var curve: ECCurve? {
        switch self {
        case .ES256: .p256
        case .ES384: .p384
        case .ES512: .p521
        default: nil
        }
    }
}
