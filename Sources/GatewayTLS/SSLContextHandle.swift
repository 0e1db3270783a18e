internal import COpenSSL
internal import GatewayJOSE

/// Owns one `SSL_CTX` serving one certificate (freed in `deinit`; OpenSSL reference-counts
/// it, so handshakes already using it keep it alive). Every handle of a `TLSServerContext`
/// gets the same settings so that switching to it by SNI (`SSL_set_SSL_CTX`) changes only
/// the certificate.
final class SSLContextHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let certificate: TLSCertificate

    /// TLS 1.2 suites: ECDHE key exchange with AEAD only (RFC 5289 AES-GCM, RFC 7905
    /// ChaCha20-Poly1305), server order.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")
    /// TLS 1.3 suites (all AEAD, RFC 8446 §B.4), CCM left out.
    static let tls13Ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    /// Resumable sessions kept in the server-side cache (bounded memory: a few hundred
    /// bytes each, plus the client certificate when there is one).
    static let sessionCacheSize = 20_000
    /// How long a cached session can be resumed, in seconds.
    static let sessionTimeout: Int = 600
    /// Session ID context: resumption with client certificates needs one (SSL_set_session_id_context(3)).
    static let sessionIDContext: [UInt8] = Array("gateway".utf8)

    /// - Throws: `TLSConfigurationError` when OpenSSL refuses a setting or the client CA file.
    init(certificate: TLSCertificate, configuration: TLSServerConfiguration) throws(TLSConfigurationError) {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else {
            throw TLSConfigurationError(file: nil, message: "SSL_CTX_new failed (\(OpenSSLErrorQueue.take()))")
        }
        self.pointer = ctx
        self.certificate = certificate
        try configure(configuration)
    }

    deinit { SSL_CTX_free(pointer) }

    private func fail(_ what: String, file: String? = nil) -> TLSConfigurationError {
        TLSConfigurationError(file: file, message: "\(what) (\(OpenSSLErrorQueue.take()))")
    }

    private func configure(_ configuration: TLSServerConfiguration) throws(TLSConfigurationError) {
        let ctx = pointer
        _ = SSL_CTX_set_options(ctx, gw_ssl_server_options())
        let minimum = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard gw_ssl_ctx_set_min_proto_version(ctx, minimum) == 1,
              gw_ssl_ctx_set_max_proto_version(ctx, TLS1_3_VERSION) == 1
        else { throw fail("cannot set the protocol versions") }
        guard SSL_CTX_set_cipher_list(ctx, Self.tls12Ciphers) == 1 else { throw fail("cannot set the TLS 1.2 ciphers") }
        guard SSL_CTX_set_ciphersuites(ctx, Self.tls13Ciphersuites) == 1 else {
            throw fail("cannot set the TLS 1.3 ciphersuites")
        }
        gw_ssl_ctx_set_server_mode(ctx)
        gw_ssl_ctx_set_session_cache(ctx, Self.sessionCacheSize)
        _ = SSL_CTX_set_timeout(ctx, Self.sessionTimeout)
        // One session ticket per TLS 1.3 handshake (stateful: a cache entry, see `gw_ssl_server_options`).
        guard SSL_CTX_set_num_tickets(ctx, 1) == 1,
              SSL_CTX_set_session_id_context(ctx, Self.sessionIDContext, UInt32(Self.sessionIDContext.count)) == 1
        else { throw fail("cannot configure session resumption") }

        let files = certificate.files
        guard SSL_CTX_use_certificate(ctx, certificate.leaf.pointer) == 1 else {
            throw fail("certificate refused", file: files.certificate)
        }
        for intermediate in certificate.chain {
            guard gw_ssl_ctx_add1_chain_cert(ctx, intermediate.pointer) == 1 else {
                throw fail("intermediate certificate refused", file: files.certificate)
            }
        }
        guard SSL_CTX_use_PrivateKey(ctx, certificate.privateKey) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            throw fail("private key refused", file: files.privateKey)
        }
        SSL_CTX_set_alpn_select_cb(ctx, alpnSelect, nil)

        guard let caFile = configuration.clientCAFile else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            return
        }
        _ = try TLSCertificate.readFile(caFile, what: "client CA")  // readable, bounded: a clear error
        guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
            throw fail("no CA certificate could be loaded", file: caFile)
        }
        guard let names = SSL_load_client_CA_file(caFile) else {
            throw fail("no CA names could be read", file: caFile)
        }
        SSL_CTX_set_client_CA_list(ctx, names)  // takes ownership of `names`
        var mode = SSL_VERIFY_PEER
        if configuration.clientCertificate == .required { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
        // OpenSSL's own chain check: trust anchor, validity dates, key usage and extended
        // key usage for TLS client authentication (X509_PURPOSE_SSL_CLIENT on a server).
        SSL_CTX_set_verify(ctx, mode, nil)
        SSL_CTX_set_verify_depth(ctx, 5)
    }
}

/// ALPN (RFC 7301 §3.2): `http/1.1` when the client offers it; a client offering only other
/// protocols gets the fatal `no_application_protocol` alert; no ALPN extension: no callback.
private func alpnSelect(
    _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ arg: UnsafeMutableRawPointer?
) -> Int32 {
    guard let offered, let out, let outLength else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
    let wanted = Array("http/1.1".utf8)
    var i = 0
    while i < list.count {
        let length = Int(list[i])
        let start = i + 1
        guard start + length <= list.count else { break }
        if length == wanted.count, list[start..<(start + length)].elementsEqual(wanted) {
            out.pointee = offered + start  // points into the client's list, as OpenSSL allows
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        i = start + length
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL
}
