internal import COpenSSL

/// An `EVP_MD_CTX` set up once by `EVP_DigestVerifyInit` for one key and algorithm
/// (digest, PSS parameters), freed in `deinit`.
///
/// Each verification copies it (`EVP_MD_CTX_copy_ex`) instead of running the init again,
/// which skips the per-call provider fetches. The template itself is never used to verify,
/// only read by the copies, so one can be shared by many threads.
final class VerifyContext: @unchecked Sendable {
    private let template: OpaquePointer

    /// nil when OpenSSL cannot make or copy such a context (the caller then uses a fresh init).
    init?(key: EVPKey, algorithm: JWSAlgorithm) {
        guard let ctx = EVPSignature.initializedVerifyContext(key: key, algorithm: algorithm) else { return nil }
        template = ctx
        // Check once that this provider can duplicate the context.
        guard let probe = EVP_MD_CTX_new() else { EVP_MD_CTX_free(ctx); return nil }
        defer { EVP_MD_CTX_free(probe) }
        guard EVP_MD_CTX_copy_ex(probe, ctx) == 1 else {
            OpenSSLErrorQueue.clear()
            EVP_MD_CTX_free(ctx)
            return nil
        }
    }

    deinit { EVP_MD_CTX_free(template) }

    /// One-shot EVP_DigestVerify on a copy of the template.
    func verify(message: UnsafeBufferPointer<UInt8>, signature: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { OpenSSLErrorQueue.clear(); return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_MD_CTX_copy_ex(ctx, template) == 1 else { OpenSSLErrorQueue.clear(); return false }
        let rc = EVP_DigestVerify(ctx, signature.baseAddress, signature.count, message.baseAddress, message.count)
        if rc != 1 { OpenSSLErrorQueue.clear() }
        return rc == 1
    }
}
