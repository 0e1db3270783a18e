internal import COpenSSL
import GatewayEvents
internal import GatewayJOSE

#if canImport(Glibc)
import Glibc
#endif

/// One accepted client connection with TLS (RFC 8446 / RFC 5246) over its non-blocking
/// descriptor: owns the descriptor and the `SSL` object.
///
/// - The handshake runs inside the first `read`/`write` calls; until it is done they return
///   `.wouldBlock` with the direction OpenSSL waits for (which may be `.writable` for a read).
///   After a `.wouldBlock` from `write`, the next `write` must offer the same bytes again
///   (at least as many; the buffer may move), as SSL_write(3) requires.
/// - `security` is set when the handshake is done; `handshakeResult` when it ended either way.
/// - Plain HTTP on the TLS port: before the handshake the first byte is peeked; a TLS
///   handshake record starts with 0x16 (RFC 8446 §5.1). When it is an ASCII letter (an
///   HTTP method), `read` returns `.failed(.tls(TLSServerTransport.plainHTTPReason))`,
///   `plainHTTPDetected` becomes true and from then on the transport is clear text: `read`,
///   `write` and `shutdownWrite` act on the socket directly, so the connection can read the
///   request, answer `400` in clear text and close. Any other first byte fails as not TLS.
///
/// Lives on one loop queue; not thread-safe.
public final class TLSServerTransport: ClientTransport {
    public private(set) var descriptor: Int32
    /// Holds the context (and so the SNI callback's target) for as long as the `SSL` lives.
    public let context: TLSServerContext
    private let ssl: OpaquePointer
    private var phase: Phase = .detecting

    /// Set once the handshake completed.
    public private(set) var security: TransportSecurity?
    /// Set once the handshake ended (completed or failed), for the handshake metric.
    public private(set) var handshakeResult: TLSHandshakeResult?
    /// The peer sent plain HTTP; the transport is clear text from then on (see the type's doc).
    public var plainHTTPDetected: Bool { phase == .clearText }

    /// The reason `read` fails with when plain HTTP was sent to the TLS port.
    public static let plainHTTPReason = "plain HTTP sent to the TLS port"

    private enum Phase: Equatable {
        case detecting, handshaking, established, clearText, failed
    }

    /// Takes ownership of `descriptor` (closed by `close()`/deinit, also when this throws).
    /// - Parameter descriptor: an accepted, non-blocking TCP socket.
    /// - Throws: `TransportError.tls` when OpenSSL cannot make the `SSL` object.
    public init(context: TLSServerContext, descriptor: Int32) throws(TransportError) {
        guard let ssl = SSL_new(context.defaultContext) else {
            let reason = OpenSSLErrorQueue.take()
            Glibc.close(descriptor)
            throw .tls("SSL_new failed: \(reason)")
        }
        guard SSL_set_fd(ssl, descriptor) == 1 else {
            let reason = OpenSSLErrorQueue.take()
            SSL_free(ssl)
            Glibc.close(descriptor)
            throw .tls("SSL_set_fd failed: \(reason)")
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.context = context
        self.descriptor = descriptor
    }

    deinit {
        SSL_free(ssl)
        close()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        if let pending = advance() { return pending }
        switch phase {
        case .clearText:
            return SocketCalls.read(descriptor, into: buffer)
        case .established:
            guard !buffer.isEmpty else { return .transferred(0) }
            var n = 0
            let r = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &n)
            if r == 1 { return .transferred(n) }
            return result(of: r, errnoValue: errno)
        default:
            return .failed(.tls("connection closed"))
        }
    }

    /// Decrypted or read-ahead bytes OpenSSL holds (SSL_has_pending): the socket may be
    /// empty while a request waits here.
    public var hasBufferedInput: Bool {
        phase == .established && SSL_has_pending(ssl) == 1
    }

    public func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        if let pending = advance() { return pending }
        guard !bytes.isEmpty else { return .transferred(0) }
        switch phase {
        case .clearText:
            return SocketCalls.send(descriptor, bytes)
        case .established:
            var n = 0
            let r = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &n)
            if r == 1 { return .transferred(n) }
            return result(of: r, errnoValue: errno)
        default:
            return .failed(.tls("connection closed"))
        }
    }

    /// Sends close_notify (RFC 8446 §6.1) when the handshake was done, then shutdown(SHUT_WR).
    /// `.transferred(0)` when done; `.wouldBlock` to retry.
    public func shutdownWrite() -> TransportResult {
        guard descriptor >= 0 else { return .failed(.tls("connection closed")) }
        if phase == .established {
            let r = SSL_shutdown(ssl)
            if r < 0 {
                let e = errno
                switch SSLResult.translate(ssl: ssl, returned: r, errnoValue: e) {
                case .wouldBlock(let readiness): return .wouldBlock(readiness)
                case .closed, .failed: phase = .failed  // nothing more to say over TLS
                }
            }
        }
        if Glibc.shutdown(descriptor, Int32(SHUT_WR)) == 0 { return .transferred(0) }
        return .failed(.system(call: "shutdown", errno: errno))
    }

    public func close() {
        guard descriptor >= 0 else { return }
        // Nothing to retry on a failed close(2) (the descriptor is released either way on Linux).
        if Glibc.close(descriptor) != 0 { /* EINTR/EIO: see close(2) */ }
        descriptor = -1
        if phase != .clearText { phase = .failed }
    }

    // MARK: handshake

    /// Moves the connection on until data can flow: detection, then the handshake. Nil when
    /// the caller may go on with its read or write; else the result to return.
    private func advance() -> TransportResult? {
        guard descriptor >= 0 else { return .failed(.tls("connection closed")) }
        if phase == .detecting {
            if let pending = detect() { return pending }
        }
        guard phase == .handshaking else { return nil }
        let r = SSL_do_handshake(ssl)
        if r == 1 {
            phase = .established
            security = readSecurity()
            handshakeResult = .ok
            return nil
        }
        return result(of: r, errnoValue: errno)
    }

    /// Peeks at the first byte: a TLS handshake record (0x16), plain HTTP, or neither.
    private func detect() -> TransportResult? {
        var first: UInt8 = 0
        while true {
            let n = recv(descriptor, &first, 1, Int32(MSG_PEEK))
            if n == 1 { break }
            if n == 0 {
                phase = .failed
                handshakeResult = .closed
                return .endOfInput
            }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock(.readable) }
            phase = .failed
            handshakeResult = .closed
            return .failed(.system(call: "recv", errno: e))
        }
        if first == 0x16 {
            phase = .handshaking
            return nil
        }
        if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) {
            phase = .clearText
            handshakeResult = .plainHTTP
            return .failed(.tls(Self.plainHTTPReason))
        }
        phase = .failed
        handshakeResult = .error
        return .failed(.tls("not a TLS handshake (first byte 0x\(String(first, radix: 16)))"))
    }

    /// A failed `SSL_*` call as a `TransportResult`; records a failed handshake.
    private func result(of returned: Int32, errnoValue: Int32) -> TransportResult {
        switch SSLResult.translate(ssl: ssl, returned: returned, errnoValue: errnoValue) {
        case .wouldBlock(let readiness):
            return .wouldBlock(readiness)
        case .closed:
            if phase == .handshaking { handshakeResult = .closed }
            phase = .failed
            return .endOfInput
        case .failed(let reason, let kind):
            if phase == .handshaking { handshakeResult = kind }
            phase = .failed
            return .failed(.tls(reason))
        }
    }

    /// The facts of the finished handshake.
    private func readSecurity() -> TransportSecurity {
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? "unknown"
        // An address literal is no server name (RFC 6066 §3): the connection counts as one
        // without SNI (default certificate, no 421 check), as when the client sends none.
        let serverName = SSL_get_servername(ssl, gw_tlsext_nametype_host_name())
            .map { TLSHostName.normalized(String(cString: $0)) }
            .flatMap { TLSHostName.isIPAddressLiteral($0) ? nil : $0 }
        let handle = context.handle(for: SSL_get_SSL_CTX(ssl))
        var client: ClientCertificate?
        if let peer = SSL_get0_peer_certificate(ssl), SSL_get_verify_result(ssl) == X509_V_OK {
            let certificate = X509Certificate(retaining: peer)
            client = ClientCertificate(subject: certificate.subject, sha256: certificate.sha256)
        }
        return TransportSecurity(protocolVersion: version, serverName: serverName,
                                 certificateNames: handle.certificate.names, clientCertificate: client,
                                 resumed: SSL_session_reused(ssl) == 1)
    }
}
