import GatewayHTTP
import GatewayUpstream

/// Bridges libcurl transfer events to the connection (held by the exchange while it runs).
final class TransferDelegate: UpstreamTransferDelegate {
    weak var connection: ClientConnection?
    let exchange: Exchange
    init(connection: ClientConnection, exchange: Exchange) {
        self.connection = connection
        self.exchange = exchange
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead status: Int, fields: [HTTPField]) {
        connection?.upstreamHead(exchange, status: status, fields: fields)
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        connection?.upstreamBody(exchange, bytes) ?? true
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        connection?.upstreamFill(exchange, buffer) ?? .abort
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        connection?.upstreamComplete(exchange, error)
    }
}
