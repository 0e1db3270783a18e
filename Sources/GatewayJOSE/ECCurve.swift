internal import COpenSSL

/// The NIST curves of RFC 7518 §3.4 / §6.2.1.1.
enum ECCurve: Sendable, CaseIterable {
    case p256, p384, p521

    /// Field element (and R, S) size in bytes.
    var size: Int {
        switch self {
        case .p256: 32
        case .p384: 48
        case .p521: 66
        }
    }

    /// JWK `crv` (RFC 7518 §6.2.1.1); OpenSSL also accepts it as a group name.
    var jwkName: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        }
    }

    var algorithm: JWSAlgorithm {
        switch self {
        case .p256: .ES256
        case .p384: .ES384
        case .p521: .ES512
        }
    }

    init?(jwkName: String) {
        guard let c = ECCurve.allCases.first(where: { $0.jwkName == jwkName }) else { return nil }
        self = c
    }

    /// From OpenSSL's group name of a loaded key.
    init?(groupName: String) {
        switch groupName {
        case "prime256v1", "P-256", "secp256r1": self = .p256
        case "secp384r1", "P-384": self = .p384
        case "secp521r1", "P-521": self = .p521
        default: return nil
        }
    }

    private var nid: Int32 {
        switch self {
        case .p256: NID_X9_62_prime256v1
        case .p384: NID_secp384r1
        case .p521: NID_secp521r1
        }
    }

    /// The group order n, big-endian, `size` bytes: R and S must be in [1, n-1] (SEC 1 §4.1.4).
    var order: [UInt8] {
        switch self {
        case .p256: ECCurve.orders[0]
        case .p384: ECCurve.orders[1]
        case .p521: ECCurve.orders[2]
        }
    }

    private static let orders: [[UInt8]] = ECCurve.allCases.map { $0.computeOrder() }

    private func computeOrder() -> [UInt8] {
        var out = [UInt8](repeating: 0xFF, count: size)
        guard let group = EC_GROUP_new_by_curve_name(nid) else { OpenSSLErrorQueue.clear(); return out }
        defer { EC_GROUP_free(group) }
        guard let n = EC_GROUP_get0_order(group), BN_bn2binpad(n, &out, Int32(size)) == Int32(size) else {
            // Unreachable with a working libcrypto; all-ones makes every range check pass to OpenSSL,
            // which still refuses out-of-range values itself.
            OpenSSLErrorQueue.clear()
            return [UInt8](repeating: 0xFF, count: size)
        }
        return out
    }
}
