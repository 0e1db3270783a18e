internal import CCurl
import Dispatch
import GatewayEvents
import GatewayHTTP

/// One upstream exchange the gateway frames itself on an `UpstreamConnection`: the request
/// head written as prebuilt bytes with `curl_easy_send`, the response read with
/// `curl_easy_recv` and framed by `UpstreamResponseReader`. libcurl still resolves,
/// connects and does TLS; what this saves per request is libcurl's HTTP layer (request
/// serialisation, the liveness `poll(2)` on every reused connection, and the `poll(2)`
/// of the first read), about a third of a cached request's instructions.
///
/// Used for requests without a body (`DirectRequest`); the events and rules for the
/// delegate are `UpstreamTransfer`'s. A pooled connection that fails before any response
/// byte arrived (the upstream closed it while the request was on its way) is replaced by a
/// fresh one once, as libcurl does: the request had no body and the upstream never saw it
/// complete.
///
/// `@unchecked Sendable`: only touched on the loop's queue (see `UpstreamTransfer`).
final class DirectExchange: UpstreamTransfer, @unchecked Sendable {
    enum State { case connecting, sending, receiving, finished }

    /// Cleared once the exchange is over.
    private var delegate: UpstreamTransferDelegate?
    /// What the delegate's events name: this exchange, until it is over.
    private var transfer: UpstreamTransfer? { delegate == nil ? nil : self }
    let request: DirectRequest
    /// Where this request's origin keeps its idle connections.
    private let idleList: IdleConnectionList
    private let connectTimeout: Double
    /// `DispatchTime` nanoseconds when the whole exchange times out; 0 for no limit.
    let deadline: UInt64
    /// `state`, `sent` and `receivePaused` are not checked for exclusive access at run
    /// time (on every send and read): plain values, only ever loaded and stored.
    private(set) var state = State.connecting
    /// Not checked for exclusive access at run time (read on every send and read): each
    /// access is a plain load or store, and releasing a connection never touches this
    /// exchange.
    private var connection: UpstreamConnection?
    private var reader: UpstreamResponseReader
    /// Request head bytes sent so far.
    private var sent = 0
    private var reusedConnection = false
    private var retried = false
    /// The loop's list of running exchanges (`UpstreamLoop.newestRunning`); only the loop
    /// sets these. Each exchange is kept alive by the link to it from a newer one (or by
    /// the loop's head), so the link back to that newer one is not counted.
    var isRunningListed = false
    var olderRunning: DirectExchange?
    unowned(unsafe) var newerRunning: DirectExchange?
    /// Inside `begin`: failures are reported on a later queue turn.
    private var beginning = false
    /// Response bytes the delegate refused (paused): decoded body bytes, then the rest of
    /// the read that followed them, still undecoded.
    private var heldBody: [UInt8] = []
    private var heldInput: [UInt8] = []
    private var receivePaused = false
    private var resumeScheduled = false

    /// - Parameters:
    ///   - connectTimeout: seconds for TCP connect and TLS handshake; 0 or less is libcurl's default.
    ///   - timeout: seconds for the whole exchange; 0 or less is no limit.
    init(loop: UpstreamLoop, request: DirectRequest, idleList: IdleConnectionList, connectTimeout: Double,
         timeout: Double, delegate: UpstreamTransferDelegate, now: UInt64) {
        self.delegate = delegate
        self.request = request
        self.idleList = idleList
        self.connectTimeout = connectTimeout
        deadline = timeout > 0 ? now + UInt64((timeout * 1e9).rounded()) : 0
        reader = UpstreamResponseReader(requestIsHead: request.isHeadRequest)
        super.init(loop: loop)
    }

    /// Takes a pooled connection or starts a new one. No delegate call from inside.
    func begin(now: UInt64) {
        if loop.curlDepth > 0 {
            // Started from inside a libcurl callback: connecting would add a handle there.
            loop.queue.async { self.begin(now: now) }
            return
        }
        guard state == .connecting else { return }  // cancelled meanwhile
        beginning = true
        defer { beginning = false }
        if let pooled = loop.takeIdleConnection(from: idleList, now: now) {
            reusedConnection = true
            pooled.exchange = self
            connection = pooled
            send()
        } else {
            connect()
        }
    }

    // MARK: - Control (the delegate's)

    /// No request body to resume.
    override func resumeSending() {
        loop.assertOnQueue()
    }

    override func resumeReceiving() {
        loop.assertOnQueue()
        // Not only once paused: the delegate may call this from inside the `didReceiveBody`
        // that then refuses the bytes; `resume` looks on the next turn.
        guard state == .receiving, !resumeScheduled else { return }
        resumeScheduled = true
        // Never from inside the caller: it may be inside a delegate callback.
        loop.queue.async { self.resume() }
    }

    /// No delegate call after this; the connection is closed (a response may be mid-way).
    override func cancel() {
        loop.assertOnQueue()
        guard state != .finished else { return }
        state = .finished
        delegate = nil
        loop.directExchangeEnded(self)
        dropConnection()
    }

    /// The whole-exchange time limit passed.
    func timedOut() {
        callError = UpstreamCallError(code: .easy(CURLE_OPERATION_TIMEDOUT), call: "transfer")
        complete(reader.headReturned ? .aborted("upstream timeout") : .timeout, keepConnection: false)
    }

    // MARK: - Connection events

    private func connect() {
        state = .connecting
        let fresh: UpstreamConnection
        do throws(UpstreamCallError) {
            fresh = try UpstreamConnection(loop: loop, request: request, idleList: idleList, connectTimeout: connectTimeout)
        } catch {
            complete(error.kind == .resourceExhausted ? .connectFailed("out of memory") : .connectFailed("libcurl refused an option"),
                     keepConnection: false)
            return
        }
        fresh.exchange = self
        connection = fresh
        do throws(UpstreamCallError) {
            try loop.addConnecting(fresh)
        } catch {
            connection = nil
            fresh.exchange = nil
            complete(.connectFailed(error.message), keepConnection: false)
        }
    }

    /// libcurl finished connecting (CURLMSG_DONE of the connect-only handle).
    func connectFinished(_ result: UpstreamCallError?) {
        guard state == .connecting, let connection else { return }
        if let result {
            callError = result
            dropConnection()
            complete(result.upstreamError(headDelivered: false), keepConnection: false)
            return
        }
        do throws(UpstreamCallError) {
            try connection.opened()
        } catch {
            callError = error
            dropConnection()
            complete(.connectFailed(error.message), keepConnection: false)
            return
        }
        send()
    }

    func connectionReady(_ ready: Readiness) {
        switch state {
        case .sending: send()
        case .receiving: receive()
        case .connecting, .finished: break
        }
    }

    // MARK: - Request

    private func send() {
        state = .sending
        guard let connection else { return }
        let total = request.head.count
        while sent < total {
            var failure: UpstreamCallError?
            let n = request.head.withUnsafeBytes { bytes -> Int in
                do throws(UpstreamCallError) {
                    return try connection.send(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure {
                connectionFailed(failure)
                return
            }
            if n == 0 {
                connection.watch(writable: true)
                return
            }
            sent += n
        }
        connection.watch(writable: false)
        state = .receiving
    }

    // MARK: - Response

    private func receive() {
        guard state == .receiving, !receivePaused, let connection else { return }
        let buffer = loop.receiveBuffer
        // Bounded per event; level-triggered readiness brings the rest.
        for _ in 0..<16 {
            let got: Int?
            do throws(UpstreamCallError) {
                got = try connection.receive(into: buffer)
            } catch {
                connectionFailed(error)
                return
            }
            guard let n = got else { return }
            if n == 0 {
                connectionEnded()
                return
            }
            guard consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) else { return }
            // A plain socket reports what is left; OpenSSL may hold decrypted bytes that
            // readiness never reports, so a TLS connection is read until it has nothing.
            if !request.key.isTLS && n < buffer.count { return }
        }
        if request.key.isTLS { loop.queue.async { self.receive() } }
    }

    /// Feeds one read to the reader and the delegate.
    /// - Returns: whether to keep reading.
    private func consume(_ input: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while true {
            let step: UpstreamResponseReader.Step
            let used: Int
            do throws(UpstreamError) {
                (step, used) = try reader.next(UnsafeRawBufferPointer(rebasing: input[offset...]))
            } catch {
                complete(error, keepConnection: false)
                return false
            }
            switch step {
            case .needMore:
                return true
            case .head(let head):
                offset += used
                if let transfer { delegate?.upstreamTransfer(transfer, didReceiveHead: head) }
                if state == .finished { return false }
            case .body(let range):
                let bytes = UnsafeRawBufferPointer(rebasing: input[(offset + range.lowerBound)..<(offset + range.upperBound)])
                offset += used
                guard let transfer, let delegate else { return false }
                let accepted = delegate.upstreamTransfer(transfer, didReceiveBody: bytes)
                if state == .finished { return false }
                if !accepted {
                    heldBody = Array(bytes)
                    heldInput = Array(input[offset...])
                    receivePaused = true
                    connection?.pauseEvents()
                    return false
                }
            case .end:
                offset += used
                // Bytes after the response are something nobody asked for: never reuse.
                complete(nil, keepConnection: reader.persistent && offset == input.count)
                return false
            }
        }
    }

    private func resume() {
        resumeScheduled = false
        guard state == .receiving, receivePaused else { return }
        if !heldBody.isEmpty {
            guard let transfer, let delegate else { return }
            let accepted = heldBody.withUnsafeBytes { delegate.upstreamTransfer(transfer, didReceiveBody: $0) }
            if state == .finished || !accepted { return }
            heldBody = []
        }
        receivePaused = false
        let input = heldInput
        heldInput = []
        // Even with nothing held: the refused bytes may have been the response's last.
        guard input.withUnsafeBytes({ consume($0) }) else { return }
        connection?.watch(writable: false)
        receive()
    }

    /// The upstream closed the connection.
    private func connectionEnded() {
        if reusedConnection && !retried && !reader.startedResponse {
            retry()
            return
        }
        do throws(UpstreamError) {
            try reader.connectionEnded()
        } catch {
            if case .invalidResponse(let message) = error {
                callError = UpstreamCallError(code: .easy(CURLE_GOT_NOTHING), call: "transfer", detail: message)
            }
            complete(error, keepConnection: false)
            return
        }
        complete(nil, keepConnection: false)
    }

    /// A send or receive failed (reset, broken pipe, TLS error).
    private func connectionFailed(_ error: UpstreamCallError) {
        if reusedConnection && !retried && !reader.startedResponse {
            retry()
            return
        }
        callError = error
        complete(error.upstreamError(headDelivered: reader.headReturned), keepConnection: false)
    }

    /// The pooled connection was already closed by the upstream: the same request on a new one.
    private func retry() {
        retried = true
        reusedConnection = false
        sent = 0
        reader = UpstreamResponseReader(requestIsHead: request.isHeadRequest)
        dropConnection()
        connect()
    }

    private func dropConnection() {
        guard let connection else { return }
        self.connection = nil
        connection.exchange = nil
        loop.closeConnection(connection)
    }

    /// Exactly once: gives the connection back to the pool (a complete response on a
    /// persistent connection) or closes it, then tells the delegate.
    private func complete(_ error: UpstreamError?, keepConnection: Bool) {
        guard state != .finished else { return }
        if beginning {
            // `begin` runs inside `UpstreamLoop.start`, which promises no delegate call.
            loop.queue.async { self.complete(error, keepConnection: keepConnection) }
            return
        }
        state = .finished
        loop.directExchangeEnded(self)
        if let connection {
            self.connection = nil
            connection.exchange = nil
            if keepConnection && error == nil {
                connection.completedExchanges += 1
                loop.keepIdleConnection(connection)
            } else {
                loop.closeConnection(connection)
            }
        }
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamTransfer(self, didComplete: error)
    }
}
