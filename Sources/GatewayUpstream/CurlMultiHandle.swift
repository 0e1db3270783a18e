internal import CCurl

/// libcurl's process-wide initialisation, run once before the first multi handle
/// (curl_global_init is not thread-safe; a global `let` is initialised exactly once).
private let curlGlobalInit: Result<Void, UpstreamCallError> = Result { () throws(UpstreamCallError) in
    try UpstreamCallError.check(gw_global_init(), "curl_global_init")
}

/// A libcurl multi handle (`CURLM *`). Non-copyable, one owner (the `UpstreamLoop`);
/// `deinit` runs curl_multi_cleanup. Every call's `CURLMcode` is checked through
/// `UpstreamCallError`.
struct CurlMultiHandle: ~Copyable {
    let pointer: UnsafeMutableRawPointer

    init() throws(UpstreamCallError) {
        try curlGlobalInit.get()
        guard let pointer = curl_multi_init() else {
            throw UpstreamCallError(code: .multi(CURLM_OUT_OF_MEMORY), call: "curl_multi_init")
        }
        self.pointer = pointer
    }

    deinit {
        // Fails only for a handle that is not a multi handle, or when called from inside one
        // of its callbacks: both are broken invariants of the owner.
        do {
            try UpstreamCallError.check(curl_multi_cleanup(pointer), "curl_multi_cleanup")
        } catch {
            preconditionFailure("\(error)")
        }
    }

    func set(_ option: CURLMoption, _ value: Int) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_multi_setopt_long(pointer, option, value), "curl_multi_setopt")
    }

    func set(_ option: CURLMoption, pointer value: UnsafeMutableRawPointer?) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_multi_setopt_ptr(pointer, option, value), "curl_multi_setopt")
    }

    /// nil detaches the callback.
    func setSocketCallback(
        _ callback: (@convention(c) (UnsafeMutableRawPointer?, curl_socket_t, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32)?
    ) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_multi_setopt_socket_cb(pointer, callback), "curl_multi_setopt")
    }

    /// nil detaches the callback.
    func setTimerCallback(
        _ callback: (@convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32)?
    ) throws(UpstreamCallError) {
        try UpstreamCallError.check(gw_multi_setopt_timer_cb(pointer, callback), "curl_multi_setopt")
    }

    func add(_ easy: UnsafeMutableRawPointer) throws(UpstreamCallError) {
        try UpstreamCallError.check(curl_multi_add_handle(pointer, easy), "curl_multi_add_handle")
    }

    func remove(_ easy: UnsafeMutableRawPointer) throws(UpstreamCallError) {
        try UpstreamCallError.check(curl_multi_remove_handle(pointer, easy), "curl_multi_remove_handle")
    }

    /// Tells libcurl about readiness of `socket` (or, with CURL_SOCKET_TIMEOUT, that its
    /// timeout expired). Runs easy-handle callbacks.
    func socketAction(_ socket: curl_socket_t, events: Int32) throws(UpstreamCallError) {
        var running: Int32 = 0
        try UpstreamCallError.check(curl_multi_socket_action(pointer, socket, events, &running), "curl_multi_socket_action")
    }

    /// Milliseconds until libcurl wants its timeout handled; -1 when it has none.
    func timeout() throws(UpstreamCallError) -> Int {
        var milliseconds = -1
        try UpstreamCallError.check(curl_multi_timeout(pointer, &milliseconds), "curl_multi_timeout")
        return milliseconds
    }

    /// The next finished transfer: its easy handle and result; nil when none is left.
    func nextCompletion() -> (easy: UnsafeMutableRawPointer, result: CURLcode)? {
        var left: Int32 = 0
        while let message = curl_multi_info_read(pointer, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            // Copied out now: removing the handle invalidates `message`.
            return (easy, gw_msg_result(message))
        }
        return nil
    }
}
