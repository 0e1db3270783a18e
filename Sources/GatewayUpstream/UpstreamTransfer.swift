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

    /// The easy handle with its header list and error buffer, from `configure()` until
    /// `release()` gives it back to the loop's pool.
    private var handle: CurlEasyHandle?
    /// `handle`'s `CURL *` (nil when there is none): the transfer's key in the loop.
    private(set) var easy: UnsafeMutableRawPointer?
    /// The libcurl or system failure that ended the transfer, as translated (nil on success,
    /// or when the failure was our own: a bad response head, a request body problem).
    private(set) var callError: UpstreamCallError?

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
    }

    // `handle`, if still here, is freed with the transfer (maybe off the loop's queue: no pool access).

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

    /// Takes an easy handle from the loop's pool and configures it.
    /// - Returns: the error to complete with, or nil when ready to add to the multi handle.
    func configure() -> UpstreamError? {
        var handle: CurlEasyHandle
        do throws(UpstreamCallError) {
            handle = try loop.takeEasyHandle()
        } catch {
            callError = error
            return .connectFailed(error.message)
        }
        do throws(UpstreamError) {
            try configure(&handle)
        } catch {
            loop.recycleEasyHandle(handle)
            return error
        }
        easy = handle.pointer
        self.handle = consume handle
        return nil
    }

    private func configure(_ handle: inout CurlEasyHandle) throws(UpstreamError) {
        guard ResponseHeadParser.isToken(request.method) else {
            throw .connectFailed("request method is not a valid token")
        }
        var fieldLines: [String] = []
        // Framing comes from `request.body` only; `Expect` is never forwarded because the
        // upstream exchange never uses 100-continue (RFC 9110 §10.1.1).
        let droppedNames: Set<String> = ["content-length", "transfer-encoding", "expect"]
        for field in request.fields {
            guard ResponseHeadParser.isToken(field.name), Self.isValidFieldValue(field.value) else {
                throw .connectFailed("request field is not valid HTTP")
            }
            if droppedNames.contains(HTTPSyntax.asciiLowercased(field.name)) { continue }
            // "Name;" is curl's spelling for a field with an empty value ("Name:" deletes it).
            fieldLines.append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        let given = Set(request.fields.map { HTTPSyntax.asciiLowercased($0.name) })
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
        let me = Unmanaged.passUnretained(self).toOpaque()
        let pointerOptions: [(CURLoption, UnsafeMutableRawPointer?)] = [
            (CURLOPT_HEADERDATA, me), (CURLOPT_WRITEDATA, me), (CURLOPT_READDATA, me),
            (CURLOPT_OPENSOCKETDATA, loop.socketContext.pointer),
            (CURLOPT_CLOSESOCKETDATA, loop.socketContext.pointer),
        ]
        if case .length(let n) = request.body, !isHead, n > UInt64(Int64.max) {
            throw .connectFailed("request body too large")
        }
        var urlRefused = false
        do throws(UpstreamCallError) {
            try handle.attachErrorBuffer()
            for (option, value) in options { try handle.set(option, value) }
            if case .length(let n) = request.body, !isHead {
                try handle.set(CURLOPT_INFILESIZE_LARGE, offset: curl_off_t(n))
            }
            for (option, value) in strings {
                urlRefused = option == CURLOPT_URL
                try handle.set(option, string: value)  // curl copies string options
            }
            urlRefused = false
            try handle.setHeaderLines(fieldLines)
            for (option, value) in pointerOptions { try handle.set(option, pointer: value) }
            try handle.set(CURLOPT_HEADERFUNCTION, dataCallback: upstreamHeaderCallback)
            try handle.set(CURLOPT_WRITEFUNCTION, dataCallback: upstreamWriteCallback)
            try handle.set(CURLOPT_READFUNCTION, dataCallback: upstreamReadCallback)
            try handle.setSocketCallbacks(open: upstreamOpenSocketCallback, close: upstreamCloseSocketCallback)
        } catch {
            callError = error
            if urlRefused { throw .connectFailed("upstream URL refused by libcurl") }
            throw error.kind == .resourceExhausted ? .connectFailed("out of memory") : .connectFailed("libcurl refused an option")
        }
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
        complete(UpstreamCallError.transferResult(result, detail: handle?.errorDetail ?? ""))
    }

    /// A libcurl call about this running transfer failed (curl_easy_pause, or
    /// curl_multi_socket_action for the whole loop): it ends with that failure.
    /// Called by the loop outside curl calls.
    func fail(_ error: UpstreamCallError) {
        guard state == .running else { return }
        complete(error)
    }

    private func complete(_ result: UpstreamCallError?) {
        callError = result
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

    /// Gives the easy handle (with its header list) back to the loop's pool.
    /// The handle must not be in the multi handle.
    private func release() {
        easy = nil
        guard let handle = handle.take() else { return }
        loop.recycleEasyHandle(handle)
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
        guard state == .running, !cancelled, easy != nil, resumeSend || resumeReceive else { return }
        if resumeSend { sendPaused = false }
        if resumeReceive { receivePaused = false }
        // Keep the other direction paused if the delegate has not released it.
        let mask = (sendPaused ? gw_pause_send() : 0) | (receivePaused ? gw_pause_recv() : 0)
        var failure: UpstreamCallError?
        loop.withCurlCall {
            // Held body bytes may be delivered from inside this call; the callbacks may
            // pause again and then set the flags anew.
            do throws(UpstreamCallError) {
                try handle?.pause(mask)
            } catch {
                failure = error
            }
        }
        // The transfer may have completed inside the call; `fail` then does nothing.
        if let failure { fail(failure) }
    }

    // MARK: - Result mapping

    /// The delegate's outcome (nil = success) for curl's translated result.
    private func outcome(_ result: UpstreamCallError?) -> UpstreamError? {
        // Our own callback's reason wins over the CURLE_WRITE_ERROR / ABORTED_BY_CALLBACK it caused.
        if let failure { return failure }
        guard let result else {
            return headDelivered ? nil : .invalidResponse("no response head")
        }
        return result.upstreamError(headDelivered: headDelivered)
    }

    private static func isValidFieldValue(_ value: String) -> Bool {
        // RFC 9110 §5.5: no CR, LF, NUL (or other CTLs besides HTAB) in a field value.
        value.utf8.allSatisfy(HTTPSyntax.isFieldValueByte)
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
