import Dispatch
import GatewayHTTP
import GatewayUpstream
import Logging
import Metrics
import Synchronization

/// Exports spans over OTLP/HTTP (JSON, `POST <endpoint>/v1/traces`) from its own serial
/// queue with its own libcurl multi handle: the event loops only append a finished exchange
/// to a bounded queue under a short lock, and never wait for the collector.
///
/// A batch (`batchSize` exchanges) leaves when it is full or every `interval` seconds, one
/// request at a time. A full queue, a collector that cannot be reached, or one that answers
/// other than 2xx drops spans, counted in `gateway_tracing_spans_dropped_total{reason}`
/// (`queue_full`, `export_failed`); sent ones in `gateway_tracing_spans_exported_total`.
/// Requests are never affected. No retry: a collector that is away for long would only make
/// the queue older.
///
/// `@unchecked Sendable`: `pending` is behind its mutex; everything else is confined to `queue`.
public final class OTLPExporter: @unchecked Sendable {
    public struct Settings: Sendable {
        /// Full URL of the traces endpoint (`http://collector:4318/v1/traces`).
        public var url: String
        public var serviceName: String
        /// Share of new traces sampled (0...1); a continued trace keeps the client's flag.
        public var sampleRatio = 1.0
        public var queueCapacity = 2048
        public var batchSize = 256
        /// Seconds between exports of a partial batch.
        public var interval = 1.0
        /// Seconds for one export request (connect: `min(2, timeout)`).
        public var timeout = 5.0

        public init(url: String, serviceName: String) {
            self.url = url
            self.serviceName = serviceName
        }
    }

    public let settings: Settings
    private let queue = DispatchQueue(label: "gateway.tracing")
    private let pending: Mutex<SpanQueue>
    private let logger: Logger
    private let droppedQueueFull = Counter(label: "gateway_tracing_spans_dropped_total", dimensions: [("reason", "queue_full")])
    private let droppedExportFailed = Counter(label: "gateway_tracing_spans_dropped_total", dimensions: [("reason", "export_failed")])
    private let exported = Counter(label: "gateway_tracing_spans_exported_total")
    // Confined to `queue`.
    private var upstream: UpstreamLoop?
    private var inFlight: ExportTransfer?
    private var timer: DispatchSourceTimer?
    private var failing = false

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        pending = Mutex(SpanQueue(capacity: settings.queueCapacity, batchSize: settings.batchSize))
    }

    /// Starts the export timer (call once).
    public func start() {
        queue.sync {
            upstream = UpstreamLoop(queue: queue)
            let t = DispatchSource.makeTimerSource(queue: queue)
            let ms = max(10, Int(settings.interval * 1000))
            t.schedule(deadline: .now() + .milliseconds(ms), repeating: .milliseconds(ms), leeway: .milliseconds(ms / 10 + 1))
            t.setEventHandler { [weak self] in self?.export() }
            t.resume()
            timer = t
        }
    }

    /// Queues one finished exchange; from any thread, never blocks on the network.
    public func record(_ e: FinishedExchange) {
        let offer = pending.withLock { $0.offer(e) }
        switch offer {
        case .queued: break
        case .batchReady: queue.async { [weak self] in self?.export() }
        case .full: droppedQueueFull.increment(by: e.spanCount)
        }
    }

    /// Sends the next batch unless one is on its way.
    private func export() {
        guard inFlight == nil, let upstream else { return }
        let batch = pending.withLock { $0.takeBatch() }
        guard !batch.isEmpty else { return }
        let spans = batch.reduce(0) { $0 + $1.spanCount }
        let body = OTLPJSONEncoder.encode(batch, serviceName: settings.serviceName)
        let request = UpstreamRequest(method: "POST", url: settings.url,
                                      fields: [HTTPField(name: "Content-Type", value: "application/json")],
                                      body: .length(UInt64(body.count)), connectTimeout: min(2, settings.timeout),
                                      timeout: settings.timeout)
        let transfer = ExportTransfer(body: body) { [weak self] status, error in
            self?.finished(spans: spans, status: status, error: error)
        }
        inFlight = transfer
        transfer.transfer = upstream.start(request, delegate: transfer)
    }

    private func finished(spans: Int, status: Int?, error: UpstreamError?) {
        inFlight = nil
        if error == nil, let status, (200..<300).contains(status) {
            exported.increment(by: spans)
            if failing {
                failing = false
                logger.info("tracing: spans reach the collector again", metadata: ["url": .string(settings.url)])
            }
        } else {
            droppedExportFailed.increment(by: spans)
            if !failing {
                failing = true
                let why = error.map { "\($0)" } ?? "HTTP \(status ?? 0)"
                logger.warning("tracing: span export failed; spans are dropped until the collector answers",
                               metadata: ["url": .string(settings.url), "error": .string(why)])
            }
        }
        // A backlog leaves without waiting for the next tick.
        if pending.withLock({ $0.count >= $0.batchSize }) { export() }
    }
}

/// One export request: supplies the body, reads the status, discards the response body.
final class ExportTransfer: UpstreamTransferDelegate {
    let body: [UInt8]
    var sent = 0
    var status: Int?
    var transfer: UpstreamTransfer?
    let done: (Int?, UpstreamError?) -> Void

    init(body: [UInt8], done: @escaping (Int?, UpstreamError?) -> Void) {
        self.body = body
        self.done = done
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {
        let status = head.status
        self.status = status
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool { true }

    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        let n = min(buffer.count, body.count - sent)
        guard n > 0 else { return .end }
        body.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + sent, byteCount: n) }
        sent += n
        return .data(n)
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        self.transfer = nil
        done(status, error)
    }
}
