internal import COpenSSL

/// Turns key material into `EVPKey`s with OpenSSL 3 (`EVP_PKEY_fromdata`, raw keys, PEM).
/// Every check on the material happens here, once, at load time.
enum KeyImport {
    /// RSA keys below this are refused (RFC 7518 §3.3: 2048 bits or larger).
    static let minimumRSABits = 2048
    /// Above this, one verification costs too much to let a JWK Set choose it.
    static let maximumRSABits = 16384

    /// An RSA public key from JWK `n` and `e` (RFC 7518 §6.3.1), big-endian unsigned.
    static func rsaPublic(n: [UInt8], e: [UInt8]) throws(KeyLoadError) -> EVPKey {
        guard !n.isEmpty, !e.isEmpty, e.count <= 8 else { throw KeyLoadError.invalid("RSA key: bad n or e") }
        guard let nb = BN_bin2bn(n, Int32(n.count), nil) else { throw OpenSSLErrorQueue.keyLoadError("RSA key: bad n") }
        defer { BN_free(nb) }
        guard let eb = BN_bin2bn(e, Int32(e.count), nil) else { throw OpenSSLErrorQueue.keyLoadError("RSA key: bad e") }
        defer { BN_free(eb) }
        // e must be odd and > 1, else every signature "verifies" trivially or never.
        guard BN_is_odd(eb) == 1, BN_is_one(eb) == 0 else { throw KeyLoadError.invalid("RSA key: bad public exponent") }
        // The builder copies the BIGNUMs when making the params; nb/eb live until then.
        let key = try fromData(type: "RSA") { bld in
            OSSL_PARAM_BLD_push_BN(bld, gw_param_rsa_n(), nb) == 1 && OSSL_PARAM_BLD_push_BN(bld, gw_param_rsa_e(), eb) == 1
        }
        try checkRSASize(key)
        return key
    }

    static func checkRSASize(_ key: EVPKey) throws(KeyLoadError) {
        let bits = key.bits
        guard bits >= minimumRSABits else {
            throw KeyLoadError.invalid("RSA key of \(bits) bits: at least \(minimumRSABits) required (RFC 7518 §3.3)")
        }
        guard bits <= maximumRSABits else { throw KeyLoadError.invalid("RSA key of \(bits) bits: at most \(maximumRSABits) accepted") }
    }

    /// An EC public key from JWK `x` and `y` (RFC 7518 §6.2.1): each exactly the curve
    /// size, the point on the curve (OpenSSL checks it when decoding 0x04‖x‖y).
    static func ecPublic(curve: ECCurve, x: [UInt8], y: [UInt8]) throws(KeyLoadError) -> EVPKey {
        guard x.count == curve.size, y.count == curve.size else {
            throw KeyLoadError.invalid("EC key: x and y must be \(curve.size) bytes for \(curve.jwkName) (RFC 7518 §6.2.1.2)")
        }
        let point: [UInt8] = [0x04] + x + y
        let group = Array(curve.jwkName.utf8CString)
        // The builder reads both buffers when making the params, inside these scopes.
        let made = group.withUnsafeBufferPointer { g in
            point.withUnsafeBufferPointer { p in
                Result { () throws(KeyLoadError) -> EVPKey in
                    try fromData(type: "EC") { bld in
                        OSSL_PARAM_BLD_push_utf8_string(bld, gw_param_group_name(), g.baseAddress, 0) == 1
                            && OSSL_PARAM_BLD_push_octet_string(bld, gw_param_pub_key(), p.baseAddress, p.count) == 1
                    }
                }
            }
        }
        let key = try made.get()
        try checkPublic(key, what: "EC key: point not on the curve")
        return key
    }

    /// An Ed25519 public key from JWK `x` (RFC 8037 §2): 32 bytes.
    static func ed25519Public(x: [UInt8]) throws(KeyLoadError) -> EVPKey {
        guard x.count == 32 else { throw KeyLoadError.invalid("Ed25519 key: x must be 32 bytes (RFC 8037 §2)") }
        guard let p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, x, x.count) else {
            throw OpenSSLErrorQueue.keyLoadError("Ed25519 key: not accepted")
        }
        return EVPKey(taking: p)
    }

    /// EVP_PKEY_fromdata for a public key whose parameters `push` adds to a builder.
    private static func fromData(type: String, push: (OpaquePointer) -> Bool) throws(KeyLoadError) -> EVPKey {
        guard let bld = OSSL_PARAM_BLD_new() else { throw OpenSSLErrorQueue.keyLoadError("\(type) key: OSSL_PARAM_BLD_new failed") }
        defer { OSSL_PARAM_BLD_free(bld) }
        guard push(bld) else { throw OpenSSLErrorQueue.keyLoadError("\(type) key: cannot build parameters") }
        guard let params = OSSL_PARAM_BLD_to_param(bld) else { throw OpenSSLErrorQueue.keyLoadError("\(type) key: no parameters") }
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            throw OpenSSLErrorQueue.keyLoadError("\(type) key: no key management")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(ctx) == 1,
              EVP_PKEY_fromdata(ctx, &pkey, gw_evp_pkey_public_key_selection(), params) == 1,
              let pkey else {
            throw OpenSSLErrorQueue.keyLoadError("\(type) key: not accepted")
        }
        return EVPKey(taking: pkey)
    }

    private static func checkPublic(_ key: EVPKey, what: String) throws(KeyLoadError) {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, key.pointer, nil) else { throw OpenSSLErrorQueue.keyLoadError(what) }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_public_check(ctx) == 1 else { throw OpenSSLErrorQueue.keyLoadError(what) }
    }

    /// What a loaded `EVP_PKEY` is, for the key types JOSE signs with.
    enum Kind { case rsa, ec(ECCurve), ed25519 }

    static func kind(of key: EVPKey) throws(KeyLoadError) -> Kind {
        switch key.baseID {
        case EVP_PKEY_RSA:
            try checkRSASize(key)
            return .rsa
        case EVP_PKEY_EC:
            guard let name = key.groupName, let curve = ECCurve(groupName: name) else {
                throw KeyLoadError.invalid("EC key on an unsupported curve (P-256, P-384, P-521 only)")
            }
            return .ec(curve)
        case EVP_PKEY_ED25519:
            return .ed25519
        default:
            throw KeyLoadError.invalid("unsupported key type (RSA, EC P-256/384/521 or Ed25519 only)")
        }
    }

    /// The PEM labels (RFC 7468) in `pem`, in order.
    static func pemLabels(_ pem: [UInt8]) -> [String] {
        let marker = Array("-----BEGIN ".utf8)
        var labels: [String] = []
        var i = 0
        while i + marker.count <= pem.count && labels.count < 64 {
            if pem[i] == marker[0] && Array(pem[i..<i + marker.count]) == marker {
                var j = i + marker.count
                while j < pem.count && pem[j] != UInt8(ascii: "-") && pem[j] != 0x0A { j += 1 }
                labels.append(String(decoding: pem[(i + marker.count)..<j], as: UTF8.self))
                i = j
            } else {
                i += 1
            }
        }
        return labels
    }

    /// Reads one PEM block with OpenSSL; never prompts for a pass phrase.
    static func readPEM(_ pem: [UInt8], privateKey: Bool) -> EVPKey? {
        let pkey: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            // A callback returning 0 refuses encrypted keys instead of reading a terminal.
            if privateKey { return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) }
            return PEM_read_bio_PUBKEY(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let pkey else { return nil }
        // PEM reading may leave benign entries (e.g. tried-and-skipped decoders) behind.
        OpenSSLErrorQueue.clear()
        return EVPKey(taking: pkey)
    }
}
