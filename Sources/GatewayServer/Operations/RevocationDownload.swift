import GatewayCore
import GatewayHTTP
import GatewayUpstream

/// Collects one revocation document response: 200 with a body of at most `maxBytes`
/// (1 MiB), or 304 Not Modified (RFC 9110 §15.4.5) for a conditional GET. Redirects are
/// not followed (the transfer never follows them), so a 3xx is a failure like any other
/// status. `completion` runs once, on the fetching queue.
final class RevocationDownload: UpstreamTransferDelegate {
    enum Outcome {
        /// A new document and its `ETag` (RFC 9110 §8.8.3), when it had a usable one.
        case document([UInt8], etag: String?)
        case notModified
        case failure(String)
    }

    static let maxBytes = 1 << 20
    private let completion: (Outcome) -> Void
    private var status = 0
    private var etag: String?
    private var body: [UInt8] = []
    private var finished = false

    init(completion: @escaping (Outcome) -> Void) {
        self.completion = completion
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {
        let status = head.status, fields = head.fields
        self.status = status
        etag = fields.last { HeaderName.equals($0.name, "etag") }.map(\.value).flatMap(RevocationDownload.usableETag)
        if status != 200 && status != 304 { fail("HTTP status \(status)", transfer) }
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        guard !finished else { return true }
        if body.count + bytes.count > RevocationDownload.maxBytes {
            fail("revocation document over \(RevocationDownload.maxBytes) bytes", transfer)
            return true
        }
        body.append(contentsOf: bytes)
        return true
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        .end
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        guard !finished else { return }
        finished = true
        if let error { return completion(.failure(RevocationDownload.describe(error))) }
        if status == 304 { return completion(.notModified) }
        guard status == 200 else { return completion(.failure("HTTP status \(status)")) }
        completion(.document(body, etag: etag))
    }

    /// Cancelling drops the delegate (no `didComplete` follows): complete here, once.
    private func fail(_ why: String, _ transfer: UpstreamTransfer) {
        guard !finished else { return }
        finished = true
        body = []
        transfer.cancel()
        completion(.failure(why))
    }

    /// An entity tag sent back in `If-None-Match` only when it is printable ASCII without
    /// separators that could end the field (at most 256 bytes); otherwise polls are unconditional.
    static func usableETag(_ value: String) -> String? {
        let bytes = value.utf8
        guard !bytes.isEmpty, bytes.count <= 256, bytes.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else { return nil }
        return value
    }

    static func describe(_ e: UpstreamError) -> String {
        switch e {
        case .timeout: return "timed out"
        case .connectFailed(let m), .invalidResponse(let m), .aborted(let m): return m
        case .cancelled: return "cancelled"
        }
    }
}
