internal import COpenSSL
internal import GatewayJOSE

/// Everything new TLS connections on a listener use: one `SSL_CTX` per certificate, chosen
/// by SNI. Built from `TLSServerConfiguration` (reading and checking every file), then
/// immutable; a reload builds a new one and swaps it in whole for new connections
/// (connections already open keep theirs: each `TLSServerTransport` holds its context).
///
/// Settings: TLS 1.2 (unless the minimum is 1.3) and 1.3; TLS 1.2 suites ECDHE with AEAD
/// only; no renegotiation, no compression; ALPN `http/1.1` or the handshake fails;
/// resumption through a server-side session cache (per context, so a reload starts it
/// empty; no session tickets encrypted with a long-lived key); client certificates verified
/// against `clientCAFile` when set.
///
/// `@unchecked Sendable`: immutable after `init`; OpenSSL allows `SSL_new` on one `SSL_CTX`
/// from several threads, and its session cache is locked internally.
public final class TLSServerContext: @unchecked Sendable {
    public let configuration: TLSServerConfiguration
    /// In configuration order; the first is the default (no SNI, or no certificate names it).
    let handles: [SSLContextHandle]

    /// The DNS names of each certificate, in configuration order.
    public var certificateNames: [[String]] { handles.map(\.certificate.names) }

    /// Reads every certificate, key and the client CA file and builds the contexts.
    /// - Throws: `TLSConfigurationError` naming the first file that fails (unreadable,
    ///   not PEM, key not matching its certificate, CA bundle without certificates).
    public init(configuration: TLSServerConfiguration) throws(TLSConfigurationError) {
        guard !configuration.certificates.isEmpty else {
            throw TLSConfigurationError(file: nil, message: "no certificate configured")
        }
        var handles: [SSLContextHandle] = []
        for files in configuration.certificates {
            let certificate = try TLSCertificate(files: files)
            handles.append(try SSLContextHandle(certificate: certificate, configuration: configuration))
        }
        self.configuration = configuration
        self.handles = handles
        // The servername callback runs on the first (default) context: every handshake starts there.
        // Unretained: transports retain this context, so it outlives every handshake.
        let arg = Unmanaged.passUnretained(self).toOpaque()
        guard gw_ssl_ctx_set_servername_callback(handles[0].pointer, selectCertificate, arg) == 1 else {
            throw TLSConfigurationError(file: nil, message: "cannot set the SNI callback (\(OpenSSLErrorQueue.take()))")
        }
    }

    /// The default context a new connection starts on.
    var defaultContext: OpaquePointer { handles[0].pointer }

    /// The first certificate whose names cover `serverName`, else the first certificate.
    func handle(forServerName serverName: String?) -> SSLContextHandle {
        guard let serverName else { return handles[0] }
        return handles.first { TLSHostName.covers($0.certificate.names, host: serverName) } ?? handles[0]
    }

    /// The handle owning `ctx` (after SNI switched to it), else the default.
    func handle(for ctx: OpaquePointer?) -> SSLContextHandle {
        handles.first { $0.pointer == ctx } ?? handles[0]
    }
}

/// SNI (RFC 6066 §3): switches the handshake to the certificate covering the name sent.
/// Never refuses: without a match the default certificate answers.
private func selectCertificate(_ ssl: OpaquePointer?, _ alert: UnsafeMutablePointer<Int32>?,
                               _ arg: UnsafeMutableRawPointer?) -> Int32 {
    guard let ssl, let arg else { return SSL_TLSEXT_ERR_NOACK }
    let context = Unmanaged<TLSServerContext>.fromOpaque(arg).takeUnretainedValue()
    guard let name = SSL_get_servername(ssl, gw_tlsext_nametype_host_name()) else { return SSL_TLSEXT_ERR_NOACK }
    let handle = context.handle(forServerName: String(cString: name))
    if handle.pointer != context.defaultContext {
        guard SSL_set_SSL_CTX(ssl, handle.pointer) != nil else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    }
    return SSL_TLSEXT_ERR_OK
}
