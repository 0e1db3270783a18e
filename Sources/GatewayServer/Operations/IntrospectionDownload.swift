import GatewayCore
import GatewayHTTP
import GatewayUpstream

/// Sends one introspection request body and collects the response: at most
/// `IntrospectionMessage.maxResponseBytes`, then read by `IntrospectionMessage.answer`.
/// Redirects are not followed (the transfer never follows them): a 3xx is a failure.
/// `completion` runs once, on the loop's queue.
final class IntrospectionDownload: UpstreamTransferDelegate {
    private let completion: (IntrospectionAnswer) -> Void
    private let requestBody: [UInt8]
    private var sent = 0
    private var status = 0
    private var body: [UInt8] = []
    private var finished = false

    init(body: [UInt8], completion: @escaping (IntrospectionAnswer) -> Void) {
        self.requestBody = body
        self.completion = completion
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {
        let status = head.status
        self.status = status
        if status != 200 { fail("HTTP status \(status)", transfer) }
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        guard !finished else { return true }
        if body.count + bytes.count > IntrospectionMessage.maxResponseBytes {
            fail("response over \(IntrospectionMessage.maxResponseBytes) bytes", transfer)
            return true
        }
        body.append(contentsOf: bytes)
        return true
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        let n = min(buffer.count, requestBody.count - sent)
        guard n > 0 else { return .end }
        requestBody.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + sent, byteCount: n)
        }
        sent += n
        return .data(n)
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        guard !finished else { return }
        finished = true
        if let error { return completion(.unavailable(RevocationDownload.describe(error))) }
        completion(IntrospectionMessage.answer(status: status, body: body))
    }

    /// Cancelling drops the delegate (no `didComplete` follows): complete here, once.
    private func fail(_ why: String, _ transfer: UpstreamTransfer) {
        guard !finished else { return }
        finished = true
        body = []
        transfer.cancel()
        completion(.unavailable(why))
    }
}
