internal import CCurl
import Dispatch
import GatewayHTTP
#if canImport(Glibc)
import Glibc
#endif

/// An `UpstreamTransfer` that libcurl's HTTP layer carries: one curl easy handle on the
/// loop's multi handle. Requests with a body (and the few others `DirectRequest` leaves to
/// libcurl) go this way.
///
/// `@unchecked Sendable`: all mutable state is only touched on the loop's queue.
final class CurlTransfer: UpstreamTransfer, @unchecked Sendable {
    enum State { case pending, running, finished }

    let request: UpstreamRequest
    private var delegate: UpstreamTransferDelegate?
    var state = State.pending
    private var cancelled = false

    /// The easy handle with its header list and error buffer, from `configure()` until
    /// `release()` gives it back to the loop's pool.
    private var handle: CurlEasyHandle?
    /// `handle`'s `CURL *` (nil when there is none): the transfer's key in the loop.
    private(set) var easy: UnsafeMutableRawPointer?

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
        self.request = request
        self.delegate = delegate
        super.init(loop: loop)
    }

    // `handle`, if still here, is freed with the transfer (maybe off the loop's queue: no pool access).

    // MARK: - Public control

    public override func resumeSending() {
        loop.assertOnQueue()
        sendResumeRequested = true
        scheduleUnpause()
    }

    public override func resumeReceiving() {
        loop.assertOnQueue()
        receiveResumeRequested = true
        scheduleUnpause()
    }

    public override func cancel() {
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
            loop.recycleEasyHandle(handle, clean: false)
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
        let isHead = request.method == "HEAD"
        if case .length(let n) = request.body, !isHead {
            guard n <= UInt64(Int64.max) else { throw .connectFailed("request body too large") }
            bodyRemaining = n
        }
        try writeHeaderLines(into: &handle.headers, isHead: isHead)
        var urlRefused = false
        do throws(UpstreamCallError) {
            if !handle.isConfigured || handle.configuredTLS != request.tls {
                if handle.isConfigured { handle.reset() }
                try configureShared(handle)
                handle.isConfigured = true
                handle.configuredTLS = request.tls
            }
            // Per request. CURLOPT_UPLOAD before CURLOPT_NOBODY: clearing UPLOAD makes the
            // request a GET again, which would undo a HEAD set first.
            var upload = false
            var uploadSize: curl_off_t = -1
            if !isHead {
                switch request.body {
                case .none: break
                case .length(let n): upload = true; uploadSize = curl_off_t(n)
                case .chunked: upload = true
                }
            }
            try handle.set(CURLOPT_UPLOAD, upload ? 1 : 0)
            try handle.set(CURLOPT_NOBODY, isHead ? 1 : 0)
            if upload { try handle.set(CURLOPT_INFILESIZE_LARGE, offset: uploadSize) }
            // 0 means libcurl's default (300 s) for the connect, no limit for the whole exchange.
            try handle.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout > 0
                           ? max(1, Int((request.connectTimeout * 1000).rounded())) : 0)
            try handle.set(CURLOPT_TIMEOUT_MS, request.timeout > 0 ? max(1, Int((request.timeout * 1000).rounded())) : 0)
            // Also for GET: an explicit method keeps CURLOPT_UPLOAD from turning it into PUT.
            // HEAD goes without one (CURLOPT_NOBODY makes it a HEAD that reads no body).
            if isHead {
                try handle.set(CURLOPT_CUSTOMREQUEST, pointer: nil)
            } else {
                try handle.set(CURLOPT_CUSTOMREQUEST, string: request.method)  // curl copies string options
            }
            urlRefused = true
            try handle.set(CURLOPT_URL, string: request.url)
            urlRefused = false
            try handle.attachHeaders()
            let me = Unmanaged.passUnretained(self).toOpaque()
            try handle.set(CURLOPT_HEADERDATA, pointer: me)
            try handle.set(CURLOPT_WRITEDATA, pointer: me)
            try handle.set(CURLOPT_READDATA, pointer: me)
        } catch {
            callError = error
            handle.reset()  // never keep a half-configured handle
            if urlRefused { throw .connectFailed("upstream URL refused by libcurl") }
            throw error.kind == .resourceExhausted ? .connectFailed("out of memory") : .connectFailed("libcurl refused an option")
        }
    }

    /// The options every transfer of this loop shares: set once per easy handle (again
    /// only after a reset, or for other TLS files).
    private func configureShared(_ handle: borrowing CurlEasyHandle) throws(UpstreamCallError) {
        try handle.setConnectionPolicy(tls: request.tls, socketContext: loop.socketContext.pointer)
        try handle.set(CURLOPT_PATH_AS_IS, 1)
        try handle.set(CURLOPT_FOLLOWLOCATION, 0)
        try handle.set(CURLOPT_HTTP_CONTENT_DECODING, 0)
        try handle.set(CURLOPT_HTTP_TRANSFER_DECODING, 1)
        // Redirects are never followed; should one ever be, only to http and https.
        try handle.set(CURLOPT_REDIR_PROTOCOLS_STR, string: "http,https")
        try handle.set(CURLOPT_HEADERFUNCTION, dataCallback: upstreamHeaderCallback)
        try handle.set(CURLOPT_WRITEFUNCTION, dataCallback: upstreamWriteCallback)
        try handle.set(CURLOPT_READFUNCTION, dataCallback: upstreamReadCallback)
    }

    /// The request's header lines for CURLOPT_HTTPHEADER, written as bytes straight into
    /// the handle's list: each field validated while it is copied (a name that is not a
    /// token or a value with CR, LF, NUL or another CTL fails the request, RFC 9110 §5.5),
    /// the framing fields and `Expect` left out (they come from `request.body`; the upstream
    /// exchange never uses 100-continue, RFC 9110 §10.1.1), and the fields libcurl would
    /// add on its own suppressed.
    private func writeHeaderLines(into list: inout CurlHeaderList, isHead: Bool) throws(UpstreamError) {
        var bytes = 64  // "Accept:", "Expect:", and one framing line, with their NULs
        for field in request.fields { bytes += field.name.utf8.count + field.value.utf8.count + 3 }
        list.begin(bytes: bytes, lines: request.fields.count + 3)
        var givenAccept = false
        for field in request.fields {
            var name = field.name
            var value = field.value
            // nil: not a token.
            let kind = name.withUTF8 { n -> RequestFieldKind? in
                let name = UnsafeRawBufferPointer(n)
                guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTokenChar) else { return nil }
                list.append(name)
                return RequestFieldKind(name)
            }
            let valid = value.withUTF8 { v -> Bool in
                let value = UnsafeRawBufferPointer(v)
                guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else { return false }
                // "Name;" is curl's spelling for a field with an empty value ("Name:" deletes it).
                if value.isEmpty {
                    list.append(0x3B)
                } else {
                    list.append(": ")
                    list.append(value)
                }
                return true
            }
            guard let kind, valid else { throw .connectFailed("request field is not valid HTTP") }
            switch kind {
            case .framing:
                list.discardLine()
            case .accept:
                givenAccept = true
                list.endLine()
            case .other:
                list.endLine()
            }
        }
        // Suppress the fields curl would add on its own.
        if !givenAccept {
            list.append("Accept:")
            list.endLine()
        }
        list.append("Expect:")
        list.endLine()
        guard !isHead else { return }
        switch request.body {
        case .none:
            // RFC 9110 §8.6: a body-carrying method says "no body" with Content-Length: 0.
            switch request.method {
            case "POST", "PUT", "PATCH":
                list.append("Content-Length: 0")
                list.endLine()
            default:
                break
            }
        case .length:
            break
        case .chunked:
            list.append("Transfer-Encoding: chunked")
            list.endLine()
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
        release(clean: result == nil && failure == nil && !cancelled && !sendPaused && !receivePaused)
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

    /// Gives the easy handle (with its header list) back to the loop's pool; `clean` when
    /// the transfer completed without any failure or pause left over, so that the handle
    /// may keep its shared options. The handle must not be in the multi handle.
    private func release(clean: Bool = false) {
        easy = nil
        guard let handle = handle.take() else { return }
        loop.recycleEasyHandle(handle, clean: clean)
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

    // MARK: - libcurl callbacks

    fileprivate func onHeaderLine(_ line: UnsafeRawBufferPointer) -> Int {
        if cancelled || failure != nil { return 0 }
        do {
            if let final = try head.consume(line) {
                headDelivered = true
                delegate?.upstreamTransfer(self, didReceiveHead: final)
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

private func transfer(_ userdata: UnsafeMutableRawPointer?) -> CurlTransfer? {
    guard let userdata else { return nil }
    return Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
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
