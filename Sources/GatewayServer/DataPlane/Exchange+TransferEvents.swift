import GatewayHTTP
import GatewayUpstream

/// The exchange receives its upstream transfer's events and hands them to its connection
/// (held weakly: a connection that is gone cancels its transfer; the transfer lets go of the
/// exchange when it completes or is cancelled).
extension Exchange: UpstreamTransferDelegate {
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {
        connection?.upstreamHead(self, head)
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        connection?.upstreamBody(self, bytes) ?? true
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        connection?.upstreamFill(self, buffer) ?? .abort
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        connection?.upstreamComplete(self, error)
    }
}
