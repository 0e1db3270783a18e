internal import CCurl
import Dispatch
import GatewayHTTP
#if canImport(Glibc)
import Glibc
#endif

/// One in-flight exchange (a curl easy handle on the loop's multi handle).
///
/// Every method must be called on the loop's queue. Events go to the delegate on that
/// queue: at most one `didReceiveHead`, then body bytes, then exactly one `didComplete`
/// — unless `cancel()` was called, after which the delegate hears nothing more.
///
/// `@unchecked Sendable`: all mutable state is only touched on the loop's queue; the type
/// is Sendable only so that blocks scheduled on that queue can capture it.
public final class UpstreamTransfer: @unchecked Sendable {
    enum State { case pending, running, finished }

    let loop: UpstreamLoop
    let request: UpstreamRequest
    private var delegate: UpstreamTransferDelegate?
    var state = State.pending
    private var cancelled = false

    /// The CURL easy handle; owned, freed by `release()`.
    private(set) var easy: UnsafeMutableRawPointer?
    /// CURLOPT_HTTPHEADER list; must outlive the easy handle's use of it.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// CURLOPT_ERRORBUFFER (CURL_ERROR_SIZE bytes).
    private let errorBuffer: UnsafeMutablePointer<CChar>

    private var head = ResponseHeadParser()
    private var headDelivered = false
    /// Why our own callback stopped the transfer; wins over curl's result code.
    private var failure: UpstreamError?
    /// Request body bytes still owed for `.length(n)`.
    private var bodyRemaining: UInt64 = 0
    private var sendPaused = false
    private var receivePaused = false
    /// resumeSending() / resumeReceiving() were called; applied on the next queue turn.
    private var sendResumeRequested = false
    private var receiveResumeRequested = false
    private var unpauseScheduled = false

    init(loop: UpstreamLoop, request: UpstreamRequest, delegate: UpstreamTransferDelegate) {
        self.loop = loop
        self.request = request
        self.delegate = delegate
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        release(recycle: false)  // maybe off the loop's queue: no pool access
        errorBuffer.deallocate()
    }

    // MARK: - Public control

    /// After `fillRequestBody` returned `.pause`, there is more request body.
    /// The transfer continues on a later queue turn (never from inside this call).
    public func resumeSending() {
        loop.assertOnQueue()
        sendResumeRequested = true
        scheduleUnpause()
    }

    /// After `didReceiveBody` returned false, the delegate can take bytes again.
    /// The held bytes are offered again on a later queue turn (never from inside this call).
    public func resumeReceiving() {
        loop.assertOnQueue()
        receiveResumeRequested = true
        scheduleUnpause()
    }

    /// Aborts; `didComplete(.cancelled)` is NOT called after cancel, nor any other
    /// delegate method. Safe from inside a delegate callback (the easy handle is then
    /// removed on the next queue turn). No effect once the transfer has completed.
    public func cancel() {
        loop.assertOnQueue()
        guard state != .finished, !cancelled else { return }
        cancelled = true
        delegate = nil
        if loop.curlDepth > 0 {
            // libcurl forbids removing a handle from inside its callbacks.
            loop.queue.async { self.releaseIfCancelled() }
        } else {
            releaseIfCancelled()
        }
    }

    // MARK: - Lifecycle (loop side)

    /// Creates and configures the easy handle.
    /// - Returns: the error to complete with, or nil when ready to add to the multi handle.
    func configure() -> UpstreamError? {
        guard let easy = loop.takeEasyHandle() else { return .connectFailed("curl_easy_init failed") }
        self.easy = easy
        guard ResponseHeadParser.isToken(request.method) else {
            return .connectFailed("request method is not a valid token")
        }
        var fieldLines: [String] = []
        // Framing comes from `request.body` only; `Expect` is never forwarded because the
        // upstream exchange never uses 100-continue (RFC 9110 §10.1.1).
        let droppedNames: Set<String> = ["content-length", "transfer-encoding", "expect"]
        for field in request.fields {
            guard ResponseHeadParser.isToken(field.name), Self.isValidFieldValue(field.value) else {
                return .connectFailed("request field is not valid HTTP")
            }
            if droppedNames.contains(field.name.lowercased()) { continue }
            // "Name;" is curl's spelling for a field with an empty value ("Name:" deletes it).
            fieldLines.append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        let given = Set(request.fields.map { $0.name.lowercased() })
        // Suppress the fields curl would add on its own.
        if !given.contains("accept") { fieldLines.append("Accept:") }
        fieldLines.append("Expect:")

        let isHead = request.method == "HEAD"
        var options: [(CURLoption, Int)] = [
            (CURLOPT_NOSIGNAL, 1),
            (CURLOPT_PATH_AS_IS, 1),
            (CURLOPT_HTTP_VERSION, gw_http_version_1_1()),
            (CURLOPT_FOLLOWLOCATION, 0),
            (CURLOPT_HTTP_CONTENT_DECODING, 0),
            (CURLOPT_HTTP_TRANSFER_DECODING, 1),
            (CURLOPT_SSL_VERIFYPEER, 1),
            (CURLOPT_SSL_VERIFYHOST, 2),
            (CURLOPT_TCP_KEEPALIVE, 1),
        ]
        if request.connectTimeout > 0 {
            options.append((CURLOPT_CONNECTTIMEOUT_MS, max(1, Int((request.connectTimeout * 1000).rounded()))))
        }
        if request.timeout > 0 {
            options.append((CURLOPT_TIMEOUT_MS, max(1, Int((request.timeout * 1000).rounded()))))
        }
        if isHead {
            options.append((CURLOPT_NOBODY, 1))
        } else {
            switch request.body {
            case .none:
                // RFC 9110 §8.6: a body-carrying method says "no body" with Content-Length: 0.
                if ["POST", "PUT", "PATCH"].contains(request.method) {
                    fieldLines.append("Content-Length: 0")
                }
            case .length(let n):
                bodyRemaining = n
                options.append((CURLOPT_UPLOAD, 1))
            case .chunked:
                options.append((CURLOPT_UPLOAD, 1))
                fieldLines.append("Transfer-Encoding: chunked")
            }
        }
        for (option, value) in options {
            guard gw_easy_setopt_long(easy, option, value) == CURLE_OK else {
                return .connectFailed("libcurl refused an option")
            }
        }
        if case .length(let n) = request.body, !isHead {
            guard n <= UInt64(Int64.max), gw_easy_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(n)) == CURLE_OK else {
                return .connectFailed("request body too large")
            }
        }

        var strings: [(CURLoption, String)] = [
            (CURLOPT_URL, request.url),
            // Only http and https, also for redirects (which are never followed anyway).
            (CURLOPT_PROTOCOLS_STR, "http,https"),
            (CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),
            // Ignore http_proxy & co from the environment.
            (CURLOPT_PROXY, ""),
            (CURLOPT_NOPROXY, "*"),
        ]
        if !isHead {
            // Also for GET: an explicit method keeps CURLOPT_UPLOAD from turning it into PUT.
            strings.append((CURLOPT_CUSTOMREQUEST, request.method))
        }
        if let tls = request.tls {
            if let path = tls.caFile { strings.append((CURLOPT_CAINFO, path)) }
            if let path = tls.clientCertificate { strings.append((CURLOPT_SSLCERT, path)) }
            if let path = tls.clientKey { strings.append((CURLOPT_SSLKEY, path)) }
        }
        for (option, value) in strings {
            // curl copies string options.
            guard gw_easy_setopt_str(easy, option, value) == CURLE_OK else {
                return option == CURLOPT_URL
                    ? .connectFailed("upstream URL refused by libcurl")
                    : .connectFailed("libcurl refused an option")
            }
        }

        for line in fieldLines {
            guard let list = curl_slist_append(headerList, line) else {
                return .connectFailed("out of memory")
            }
            headerList = list
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        let pointerOptions: [(CURLoption, UnsafeMutableRawPointer?)] = [
            (CURLOPT_HEADERDATA, me), (CURLOPT_WRITEDATA, me), (CURLOPT_READDATA, me),
            (CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)),
            (CURLOPT_OPENSOCKETDATA, loop.socketContext.pointer),
            (CURLOPT_CLOSESOCKETDATA, loop.socketContext.pointer),
        ]
        for (option, value) in pointerOptions {
            guard gw_easy_setopt_ptr(easy, option, value) == CURLE_OK else {
                return .connectFailed("libcurl refused an option")
            }
        }
        guard gw_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList) == CURLE_OK,
              gw_easy_setopt_data_cb(easy, CURLOPT_HEADERFUNCTION, upstreamHeaderCallback) == CURLE_OK,
              gw_easy_setopt_data_cb(easy, CURLOPT_WRITEFUNCTION, upstreamWriteCallback) == CURLE_OK,
              gw_easy_setopt_data_cb(easy, CURLOPT_READFUNCTION, upstreamReadCallback) == CURLE_OK,
              gw_easy_setopt_opensocket_cb(easy, upstreamOpenSocketCallback) == CURLE_OK,
              gw_easy_setopt_closesocket_cb(easy, upstreamCloseSocketCallback) == CURLE_OK
        else {
            return .connectFailed("libcurl refused an option")
        }
        return nil
    }

    /// Configuration or curl_multi_add_handle failed: report it (on a later queue turn).
    func failBeforeStart(_ error: UpstreamError) {
        guard state != .finished, !cancelled else { return }
        state = .finished
        release()
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamTransfer(self, didComplete: error)
    }

    /// curl reported CURLMSG_DONE. Called by the loop outside curl calls.
    func finish(_ result: CURLcode) {
        guard state == .running else { return }
        let error = cancelled ? nil : outcome(result)
        loop.remove(self)
        state = .finished
        release()
        let delegate = self.delegate
        self.delegate = nil
        if !cancelled {
            delegate?.upstreamTransfer(self, didComplete: error)
        }
    }

    private func releaseIfCancelled() {
        guard cancelled, state != .finished else { return }
        loop.remove(self)
        state = .finished
        release()
    }

    /// Gives the easy handle back to the loop's pool (or frees it) and frees the header list.
    /// The handle must not be in the multi handle.
    private func release(recycle: Bool = true) {
        if let easy {
            if recycle { loop.recycleEasyHandle(easy) } else { curl_easy_cleanup(easy) }
            self.easy = nil
        }
        if let headerList {
            curl_slist_free_all(headerList)
            self.headerList = nil
        }
    }

    private func scheduleUnpause() {
        guard state != .finished, !cancelled, !unpauseScheduled else { return }
        unpauseScheduled = true
        // Always on a later turn: the caller may be inside a delegate callback, and
        // unpausing may deliver held body bytes synchronously.
        loop.queue.async { self.unpause() }
    }

    private func unpause() {
        unpauseScheduled = false
        let resumeSend = sendResumeRequested && sendPaused
        let resumeReceive = receiveResumeRequested && receivePaused
        sendResumeRequested = false
        receiveResumeRequested = false
        guard state == .running, !cancelled, let easy, resumeSend || resumeReceive else { return }
        if resumeSend { sendPaused = false }
        if resumeReceive { receivePaused = false }
        // Keep the other direction paused if the delegate has not released it.
        let mask = (sendPaused ? gw_pause_send() : 0) | (receivePaused ? gw_pause_recv() : 0)
        loop.withCurlCall {
            // Held body bytes may be delivered from inside this call; the callbacks may
            // pause again and then set the flags anew.
            _ = curl_easy_pause(easy, mask)
        }
    }

    // MARK: - Result mapping

    /// Maps curl's result to the delegate's outcome (nil = success).
    private func outcome(_ result: CURLcode) -> UpstreamError? {
        if let failure { return failure }
        if result == CURLE_OK {
            return headDelivered ? nil : .invalidResponse("no response head")
        }
        let message = errorMessage(result)
        // Once the head went to the delegate, every failure means a cut-off response.
        if headDelivered { return .aborted(message) }
        switch result {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
             CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE,
             CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT,
             CURLE_USE_SSL_FAILED, CURLE_URL_MALFORMAT, CURLE_SEND_ERROR, CURLE_SEND_FAIL_REWIND,
             CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT:
            return .connectFailed(message)
        case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL, CURLE_GOT_NOTHING, CURLE_RECV_ERROR,
             CURLE_PARTIAL_FILE, CURLE_BAD_CONTENT_ENCODING:
            return .invalidResponse(message)
        default:
            return .connectFailed(message)
        }
    }

    /// curl's detail message (names host and port, never header values), else the code's text.
    private func errorMessage(_ result: CURLcode) -> String {
        errorBuffer[Int(CURL_ERROR_SIZE) - 1] = 0
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
    }

    private static func isValidFieldValue(_ value: String) -> Bool {
        // RFC 9110 §5.5: no CR, LF, NUL (or other CTLs besides HTAB) in a field value.
        value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    // MARK: - libcurl callbacks

    fileprivate func onHeaderLine(_ line: UnsafeRawBufferPointer) -> Int {
        if cancelled || failure != nil { return 0 }
        do {
            if let final = try head.consume(line) {
                headDelivered = true
                delegate?.upstreamTransfer(self, didReceiveHead: final.status, fields: final.fields)
                if cancelled { return 0 }
            }
            return line.count
        } catch {
            failure = error
            return 0  // curl stops the transfer with CURLE_WRITE_ERROR
        }
    }

    fileprivate func onBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if cancelled || failure != nil { return 0 }
        guard headDelivered else {
            failure = .invalidResponse("response body before head")
            return 0
        }
        guard let delegate else { return 0 }
        let accepted = delegate.upstreamTransfer(self, didReceiveBody: bytes)
        if cancelled { return 0 }
        if !accepted {
            receivePaused = true
            return gw_writefunc_pause()
        }
        return bytes.count
    }

    fileprivate func onRequestBody(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        if cancelled || failure != nil { return gw_readfunc_abort() }
        guard let delegate else { return gw_readfunc_abort() }
        var target = buffer
        if case .length = request.body {
            if bodyRemaining == 0 { return 0 }
            if UInt64(target.count) > bodyRemaining {
                target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(bodyRemaining)])
            }
        }
        let chunk = delegate.upstreamTransfer(self, fillRequestBody: target)
        if cancelled { return gw_readfunc_abort() }
        switch chunk {
        case .data(let count):
            guard count > 0, count <= target.count else {
                failure = .aborted("request body callback returned an invalid byte count")
                return gw_readfunc_abort()
            }
            if case .length = request.body { bodyRemaining -= UInt64(count) }
            return count
        case .pause:
            sendPaused = true
            return gw_readfunc_pause()
        case .end:
            if case .length = request.body, bodyRemaining > 0 {
                failure = .aborted("request body ended before its declared length")
                return gw_readfunc_abort()
            }
            return 0
        case .abort:
            failure = .aborted("request body abandoned by the client")
            return gw_readfunc_abort()
        }
    }
}

private func transfer(_ userdata: UnsafeMutableRawPointer?) -> UpstreamTransfer? {
    guard let userdata else { return nil }
    return Unmanaged<UpstreamTransfer>.fromOpaque(userdata).takeUnretainedValue()
}

/// CURLOPT_HEADERFUNCTION: one complete head line per call.
private let upstreamHeaderCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    pointer, size, count, userdata in
    guard let t = transfer(userdata) else { return 0 }
    return t.onHeaderLine(UnsafeRawBufferPointer(start: pointer, count: size * count))
}

/// CURLOPT_WRITEFUNCTION: de-chunked body bytes; CURL_WRITEFUNC_PAUSE holds them.
private let upstreamWriteCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    pointer, size, count, userdata in
    guard let t = transfer(userdata) else { return 0 }
    return t.onBody(UnsafeRawBufferPointer(start: pointer, count: size * count))
}

/// CURLOPT_READFUNCTION: request body bytes; 0 = end, CURL_READFUNC_PAUSE = none yet.
private let upstreamReadCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    pointer, size, count, userdata in
    guard let t = transfer(userdata) else { return gw_readfunc_abort() }
    return t.onRequestBody(UnsafeMutableRawBufferPointer(start: pointer, count: size * count))
}
