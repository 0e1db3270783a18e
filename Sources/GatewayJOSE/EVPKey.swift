internal import COpenSSL

/// Owns one `EVP_PKEY` and frees it in `deinit` (one owning Swift type per C handle).
///
/// The key is immutable once made; OpenSSL 3 allows concurrent use of one `EVP_PKEY`
/// from several threads as long as each operation has its own `EVP_MD_CTX`.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    var baseID: Int32 { EVP_PKEY_get_base_id(pointer) }
    var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }
    /// Largest signature size in bytes; for RSA exactly the modulus size.
    var maxSignatureSize: Int { Int(EVP_PKEY_get_size(pointer)) }

    /// The OpenSSL group name of an EC key ("prime256v1", "secp384r1", "secp521r1").
    var groupName: String? {
        var buf = [CChar](repeating: 0, count: 64)
        var len = 0
        guard EVP_PKEY_get_group_name(pointer, &buf, buf.count, &len) == 1 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return String(decoding: buf.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A BIGNUM parameter (RSA `n`/`e`, EC `qx`/`qy`) as big-endian bytes, left-padded to `pad`.
    func bigNumberParameter(_ name: String, pad: Int? = nil) -> [UInt8]? {
        var bn: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(pointer, name, &bn) == 1, let bn else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        defer { BN_free(bn) }
        let size = pad ?? Int((BN_num_bits(bn) + 7) / 8)
        var out = [UInt8](repeating: 0, count: size)
        guard BN_bn2binpad(bn, &out, Int32(size)) == Int32(size) else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return out
    }

    /// The raw public key of an Ed25519 key (RFC 8032 §5.1.5 encoding, 32 bytes).
    var rawPublicKey: [UInt8]? {
        var len = 0
        guard EVP_PKEY_get_raw_public_key(pointer, nil, &len) == 1 else { OpenSSLErrorQueue.clear(); return nil }
        var out = [UInt8](repeating: 0, count: len)
        guard EVP_PKEY_get_raw_public_key(pointer, &out, &len) == 1 else { OpenSSLErrorQueue.clear(); return nil }
        return Array(out.prefix(len))
    }
}
