internal import CCurl

/// A libcurl easy handle together with the memory it points libcurl at: its request header
/// list (CURLOPT_HTTPHEADER, `CurlHeaderList`) and its error buffer (CURLOPT_ERRORBUFFER,
/// CURL_ERROR_SIZE bytes). Non-copyable: exactly one owner at a time (the loop's pool, then
/// one transfer, then the pool again); `deinit` frees the handle, then the list and the
/// buffer, so libcurl never holds a pointer to freed memory. Every result is checked through
/// `UpstreamCallError`.
///
/// A handle keeps the options every transfer shares (`isConfigured`, set up by
/// `CurlTransfer`) from one transfer to the next; only the per-request options are set
/// again. `reset()` drops everything.
struct CurlEasyHandle: ~Copyable {
    /// The `CURL *`; valid while this value lives. Used as the transfer's identity in the
    /// multi handle and its callbacks, never freed by anyone else.
    let pointer: UnsafeMutableRawPointer
    /// The request header list; rebuilt for every request, in place.
    var headers = CurlHeaderList()
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Whether the shared options are set (since `init` or the last `reset()`).
    var isConfigured = false
    /// The TLS files the shared options name (meaningful only when `isConfigured`).
    var configuredTLS: UpstreamTLSOptions?
    /// The share handle the handle uses (CURLOPT_SHARE), kept until after curl_easy_cleanup.
    private var share: CurlShareHandle?

    init() throws(UpstreamCallError) {
        guard let pointer = curl_easy_init() else {
            throw UpstreamCallError(code: .easy(CURLE_FAILED_INIT), call: "curl_easy_init")
        }
        self.pointer = pointer
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        // `headers` and `share` are released after this body, so after the handle that uses them.
        curl_easy_cleanup(pointer)
        errorBuffer.deallocate()
    }

    /// Back to libcurl's defaults (it keeps only its caches: connections stay in the multi
    /// handle's pool, DNS cache entries), with no header list and an empty error buffer.
    /// The handle must not be in a multi handle.
    mutating func reset() {
        curl_easy_reset(pointer)
        isConfigured = false
        configuredTLS = nil
        errorBuffer[0] = 0
    }

    /// Between transfers of a configured handle: no pointer to the finished transfer stays
    /// in the handle, and the error buffer is empty.
    /// - Throws: when libcurl refuses (the caller then resets or frees the handle).
    func detachTransfer() throws(UpstreamCallError) {
        errorBuffer[0] = 0
        try set(CURLOPT_HEADERDATA, pointer: nil)
        try set(CURLOPT_WRITEDATA, pointer: nil)
        try set(CURLOPT_READDATA, pointer: nil)
    }

    /// Points CURLOPT_ERRORBUFFER at the owned buffer (after `init` or `reset`).
    func attachErrorBuffer() throws(UpstreamCallError) {
        errorBuffer[0] = 0
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
    }

    /// libcurl's detail text for the last failure ("" when none).
    var errorDetail: String {
        errorBuffer[Int(CURL_ERROR_SIZE) - 1] = 0
        return String(cString: errorBuffer)
    }

    func set(_ option: CURLoption, _ value: Int) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_easy_setopt_long(pointer, option, value), "curl_easy_setopt")
    }

    func set(_ option: CURLoption, offset value: curl_off_t) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_easy_setopt_off(pointer, option, value), "curl_easy_setopt")
    }

    /// libcurl copies string options.
    func set(_ option: CURLoption, string value: String) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_easy_setopt_str(pointer, option, value), "curl_easy_setopt")
    }

    /// `value` must stay valid while the handle uses it (callers pass objects that outlive
    /// the transfer, or memory this value owns).
    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_easy_setopt_ptr(pointer, option, value), "curl_easy_setopt")
    }

    func set(_ option: CURLoption, dataCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_easy_setopt_data_cb(pointer, option, dataCallback), "curl_easy_setopt")
    }

    func setSocketCallbacks(
        open: @convention(c) (UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t,
        close: @convention(c) (UnsafeMutableRawPointer?, curl_socket_t) -> Int32
    ) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_easy_setopt_opensocket_cb(pointer, open), "curl_easy_setopt")
        try UpstreamCallError.check(gw_easy_setopt_closesocket_cb(pointer, close), "curl_easy_setopt")
    }

    /// Points CURLOPT_HTTPHEADER at `headers` as built for this request.
    func attachHeaders() throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_easy_setopt_slist(pointer, CURLOPT_HTTPHEADER, headers.list), "curl_easy_setopt")
    }

    /// curl_easy_pause with CURLPAUSE_* bits; unpausing may run the transfer's callbacks.
    func pause(_ mask: Int32) throws(UpstreamCallError) {
        try UpstreamCallError.check(curl_easy_pause(pointer, mask), "curl_easy_pause")
    }

    /// How every upstream connection is made, by a libcurl transfer or for a direct
    /// exchange: the error buffer, no signals, TCP keep-alive, peer and host name
    /// verification, http and https only, no proxy from the environment (`http_proxy` & co),
    /// `tls`'s files, and the loop's socket open/close hooks (`socketContext`).
    func setConnectionPolicy(tls: UpstreamTLSOptions?, socketContext: UnsafeMutableRawPointer) throws(UpstreamCallError) {
        try attachErrorBuffer()
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_PROTOCOLS_STR, string: "http,https")
        try set(CURLOPT_PROXY, string: "")
        try set(CURLOPT_NOPROXY, string: "*")
        // HTTP/1.1 only, also as the ALPN offer of a TLS handshake.
        try set(CURLOPT_HTTP_VERSION, gw_http_version_1_1())
        if let tls {
            if let path = tls.caFile { try set(CURLOPT_CAINFO, string: path) }
            if let path = tls.clientCertificate { try set(CURLOPT_SSLCERT, string: path) }
            if let path = tls.clientKey { try set(CURLOPT_SSLKEY, string: path) }
        }
        try set(CURLOPT_OPENSOCKETDATA, pointer: socketContext)
        try set(CURLOPT_CLOSESOCKETDATA, pointer: socketContext)
        try setSocketCallbacks(open: upstreamOpenSocketCallback, close: upstreamCloseSocketCallback)
    }

    // MARK: - Connect-only handles (CURLOPT_CONNECT_ONLY)

    /// Makes the handle use `share`'s caches (CURLOPT_SHARE) for as long as it lives.
    mutating func attach(share: CurlShareHandle) throws(UpstreamCallError) {
        try set(CURLOPT_SHARE, pointer: share.pointer)
        self.share = share
    }

    /// CURLINFO_ACTIVESOCKET: the socket of the handle's connection.
    func activeSocket() throws(UpstreamCallError) -> Int32 {
        var socket: curl_socket_t = -1
        try UpstreamCallError.check(gw_easy_getinfo_socket(pointer, CURLINFO_ACTIVESOCKET, &socket), "curl_easy_getinfo")
        guard socket >= 0 else { throw UpstreamCallError(code: .easy(CURLE_UNSUPPORTED_PROTOCOL), call: "curl_easy_getinfo") }
        return socket
    }

    /// curl_easy_send on the handle's connection (TLS included).
    /// - Returns: bytes sent; 0 when the socket takes nothing now (CURLE_AGAIN).
    func send(_ bytes: UnsafeRawBufferPointer) throws(UpstreamCallError) -> Int {
        var sent = 0
        let code = curl_easy_send(pointer, bytes.baseAddress, bytes.count, &sent)
        if code == CURLE_AGAIN { return 0 }
        try UpstreamCallError.check(code, "curl_easy_send")
        return sent
    }

    /// curl_easy_recv on the handle's connection (TLS included).
    /// - Returns: bytes read, 0 at the connection's end, nil when nothing is there now (CURLE_AGAIN).
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(UpstreamCallError) -> Int? {
        var received = 0
        let code = curl_easy_recv(pointer, buffer.baseAddress, buffer.count, &received)
        if code == CURLE_AGAIN { return nil }
        try UpstreamCallError.check(code, "curl_easy_recv")
        return received
    }
}
