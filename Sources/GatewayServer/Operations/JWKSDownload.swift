import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayUpstream

/// Collects one small JSON document (a JWK Set or an OpenID Provider configuration): status
/// 200, body at most `KeySet.maxJWKSetBytes` (1 MiB), and its `Cache-Control: max-age`.
final class JWKSDownload: UpstreamTransferDelegate {
    /// The body and the response's `max-age`, seconds (RFC 9111 §5.2.2.1).
    struct Document {
        var body: [UInt8]
        var maxAge: Double?
    }

    private let completion: (Result<Document, JWKSFetchError>) -> Void
    private var status = 0
    private var maxAge: Double?
    private var body: [UInt8] = []
    private var failure: JWKSFetchError?

    init(completion: @escaping (Result<Document, JWKSFetchError>) -> Void) {
        self.completion = completion
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {
        let status = head.status, fields = head.fields
        self.status = status
        maxAge = JWKSRefreshPolicy.maxAge(cacheControl: fields.filter { HeaderName.equals($0.name, "cache-control") }
            .map(\.value))
        if status != 200 { fail(.status(status), transfer) }
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil else { return true }
        if body.count + bytes.count > KeySet.maxJWKSetBytes {
            fail(.tooLarge, transfer)
            return true
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Cancelling drops the delegate (no `didComplete` follows): complete here, once.
    private func fail(_ error: JWKSFetchError, _ transfer: UpstreamTransfer) {
        guard failure == nil else { return }
        failure = error
        body = []
        transfer.cancel()
        completion(.failure(error))
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        .end
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        if failure != nil { return }
        if let error { return completion(.failure(.transport(error))) }
        guard status == 200 else { return completion(.failure(.status(status))) }
        completion(.success(Document(body: body, maxAge: maxAge)))
    }
}
