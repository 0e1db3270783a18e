internal import CCurl

/// A libcurl easy handle together with the memory it points libcurl at: its request header
/// list (CURLOPT_HTTPHEADER) and its error buffer (CURLOPT_ERRORBUFFER, CURL_ERROR_SIZE
/// bytes). Non-copyable: exactly one owner at a time (the loop's pool, then one transfer,
/// then the pool again); `deinit` frees the handle, then the list and the buffer, so libcurl
/// never holds a pointer to freed memory. Every result is checked through `UpstreamCallError`.
struct CurlEasyHandle: ~Copyable {
    /// The `CURL *`; valid while this value lives. Used as the transfer's identity in the
    /// multi handle and its callbacks, never freed by anyone else.
    let pointer: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws(UpstreamCallError) {
        guard let pointer = curl_easy_init() else {
            throw UpstreamCallError(code: .easy(CURLE_FAILED_INIT), call: "curl_easy_init")
        }
        self.pointer = pointer
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(pointer)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Back to libcurl's defaults (it keeps only its caches: connections stay in the multi
    /// handle's pool, DNS cache entries), with no header list and an empty error buffer.
    /// The handle must not be in a multi handle.
    mutating func reset() {
        curl_easy_reset(pointer)
        curl_slist_free_all(headerList)
        headerList = nil
        errorBuffer[0] = 0
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

    /// Replaces the request header list (CURLOPT_HTTPHEADER) with `lines`; the list is owned
    /// here and freed with the handle or on `reset()`.
    mutating func setHeaderLines(_ lines: [String]) throws(UpstreamCallError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let longer = curl_slist_append(list, line) else {
                curl_slist_free_all(list)
                throw UpstreamCallError(code: .easy(CURLE_OUT_OF_MEMORY), call: "curl_slist_append")
            }
            list = longer
        }
        do throws(UpstreamCallError) {
            try UpstreamCallError.check(gw_easy_setopt_slist(pointer, CURLOPT_HTTPHEADER, list), "curl_easy_setopt")
        } catch {
            curl_slist_free_all(list)
            throw error
        }
        curl_slist_free_all(headerList)
        headerList = list
    }

    /// curl_easy_pause with CURLPAUSE_* bits; unpausing may run the transfer's callbacks.
    func pause(_ mask: Int32) throws(UpstreamCallError) {
        try UpstreamCallError.check(curl_easy_pause(pointer, mask), "curl_easy_pause")
    }
}
