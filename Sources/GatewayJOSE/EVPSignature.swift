internal import COpenSSL

/// Signature primitives over OpenSSL 3 EVP (RFC 7518 §3, RFC 8037 §3.1).
enum EVPSignature {
    /// EVP_DigestVerify with the algorithm's digest (nil for Ed25519) and, for PS*,
    /// RSASSA-PSS with MGF1 on the same hash and a salt as long as the hash (RFC 7518 §3.5).
    static func verify(key: EVPKey, algorithm: JWSAlgorithm,
                       message: UnsafeBufferPointer<UInt8>, signature: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let ctx = initializedVerifyContext(key: key, algorithm: algorithm) else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        let rc = EVP_DigestVerify(ctx, signature.baseAddress, signature.count, message.baseAddress, message.count)
        if rc != 1 { OpenSSLErrorQueue.clear() }
        return rc == 1
    }

    /// A new `EVP_MD_CTX` after EVP_DigestVerifyInit (and PSS parameters); the caller frees it.
    static func initializedVerifyContext(key: EVPKey, algorithm: JWSAlgorithm) -> OpaquePointer? {
        guard let ctx = EVP_MD_CTX_new() else { OpenSSLErrorQueue.clear(); return nil }
        var pctx: OpaquePointer? = nil
        let md = algorithm.digest
        guard EVP_DigestVerifyInit(ctx, &pctx, md, nil, key.pointer) == 1,
              algorithm.family != .rsaPSS || configurePSS(pctx, md: md) else {
            OpenSSLErrorQueue.clear()
            EVP_MD_CTX_free(ctx)
            return nil
        }
        return ctx
    }

    /// EVP_DigestSign; ECDSA results are DER here (converted by the caller).
    /// `pssSaltLength` other than the hash length exists only for tests of the verifier.
    static func sign(key: EVPKey, algorithm: JWSAlgorithm, message: [UInt8],
                     pssSaltLength: Int32 = RSA_PSS_SALTLEN_DIGEST) throws(KeyLoadError) -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLErrorQueue.keyLoadError("EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(ctx) }
        var pctx: OpaquePointer? = nil
        let md = algorithm.digest
        guard EVP_DigestSignInit(ctx, &pctx, md, nil, key.pointer) == 1 else {
            throw OpenSSLErrorQueue.keyLoadError("cannot sign \(algorithm.rawValue) with this key")
        }
        if algorithm.family == .rsaPSS {
            guard configurePSS(pctx, md: md, saltLength: pssSaltLength) else {
                throw OpenSSLErrorQueue.keyLoadError("cannot set RSA-PSS parameters")
            }
        }
        var length = 0
        guard EVP_DigestSign(ctx, nil, &length, message, message.count) == 1 else {
            throw OpenSSLErrorQueue.keyLoadError("signing failed")
        }
        var out = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &out, &length, message, message.count) == 1 else {
            throw OpenSSLErrorQueue.keyLoadError("signing failed")
        }
        return Array(out.prefix(length))
    }

    /// RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash. On verification
    /// a signature with any other salt length is refused.
    private static func configurePSS(_ pctx: OpaquePointer?, md: OpaquePointer?,
                                     saltLength: Int32 = RSA_PSS_SALTLEN_DIGEST) -> Bool {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltLength) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1
    }

    /// HMAC-SHA2 (RFC 2104, RFC 7518 §3.2).
    static func hmac(algorithm: JWSAlgorithm, key: [UInt8], message: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let ok = key.withUnsafeBufferPointer { k in
            HMAC(algorithm.digest, k.baseAddress, Int32(k.count), message.baseAddress, message.count, &out, &length) != nil
        }
        guard ok else { OpenSSLErrorQueue.clear(); return nil }
        return Array(out.prefix(Int(length)))
    }

    /// HMAC check with a constant-time compare (RFC 7518 §3.2; the length is public).
    static func verifyHMAC(algorithm: JWSAlgorithm, key: [UInt8],
                           message: UnsafeBufferPointer<UInt8>, signature: UnsafeBufferPointer<UInt8>) -> Bool {
        guard signature.count == algorithm.hashSize, let mac = hmac(algorithm: algorithm, key: key, message: message),
              mac.count == signature.count else { return false }
        return mac.withUnsafeBufferPointer { CRYPTO_memcmp($0.baseAddress, signature.baseAddress, signature.count) == 0 }
    }

    /// Whether big-endian `v` (same length as `order`) is in [1, order-1].
    private static func inRange(_ v: UnsafeBufferPointer<UInt8>, order: [UInt8]) -> Bool {
        var allZero = true
        for b in v where b != 0 { allZero = false; break }
        if allZero { return false }
        for k in 0..<v.count {
            if v[k] < order[k] { return true }
            if v[k] > order[k] { return false }
        }
        return false // equal to the order
    }

    /// RFC 7518 §3.4: the JWS signature is R‖S, each exactly the curve size; OpenSSL wants
    /// the DER `ECDSA-Sig-Value`. R and S must be in [1, n-1] (checked here, before OpenSSL).
    /// nil for any other length or out-of-range value (so DER input is refused).
    static func ecdsaRawToDER(_ sig: UnsafeBufferPointer<UInt8>, curve: ECCurve) -> [UInt8]? {
        let n = curve.size
        guard sig.count == 2 * n else { return nil }
        let r = UnsafeBufferPointer(rebasing: sig[0..<n])
        let s = UnsafeBufferPointer(rebasing: sig[n..<2 * n])
        let order = curve.order
        guard inRange(r, order: order), inRange(s, order: order) else { return nil }
        guard let ecsig = ECDSA_SIG_new() else { OpenSSLErrorQueue.clear(); return nil }
        defer { ECDSA_SIG_free(ecsig) }
        guard let rb = BN_bin2bn(r.baseAddress, Int32(n), nil) else { OpenSSLErrorQueue.clear(); return nil }
        guard let sb = BN_bin2bn(s.baseAddress, Int32(n), nil) else {
            BN_free(rb); OpenSSLErrorQueue.clear(); return nil
        }
        guard ECDSA_SIG_set0(ecsig, rb, sb) == 1 else {
            BN_free(rb); BN_free(sb); OpenSSLErrorQueue.clear(); return nil
        }
        let length = i2d_ECDSA_SIG(ecsig, nil)
        guard length > 0 else { OpenSSLErrorQueue.clear(); return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buf -> Int32 in
            var p: UnsafeMutablePointer<UInt8>? = buf.baseAddress
            return i2d_ECDSA_SIG(ecsig, &p)
        }
        guard written == length else { OpenSSLErrorQueue.clear(); return nil }
        return der
    }

    /// DER `ECDSA-Sig-Value` from EVP_DigestSign → R‖S, each left-padded to the curve size.
    static func ecdsaDERToRaw(_ der: [UInt8], curve: ECCurve) -> [UInt8]? {
        let ecsig: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_ECDSA_SIG(nil, &p, buf.count)
        }
        guard let ecsig else { OpenSSLErrorQueue.clear(); return nil }
        defer { ECDSA_SIG_free(ecsig) }
        var r: OpaquePointer? = nil
        var s: OpaquePointer? = nil
        ECDSA_SIG_get0(ecsig, &r, &s)
        let n = curve.size
        var out = [UInt8](repeating: 0, count: 2 * n)
        let ok = out.withUnsafeMutableBufferPointer { buf in
            BN_bn2binpad(r, buf.baseAddress, Int32(n)) == Int32(n)
                && BN_bn2binpad(s, buf.baseAddress! + n, Int32(n)) == Int32(n)
        }
        guard ok else { OpenSSLErrorQueue.clear(); return nil }
        return out
    }
}
