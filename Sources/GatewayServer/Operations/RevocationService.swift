import Dispatch
import GatewayCore
import GatewayHTTP
import GatewayPolicy
import GatewayUpstream
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Loads and keeps current the revocation lists of `revocation:` (docs/revocation.md).
///
/// - `file`: read at load and reload; then `stat` every second on this service's queue (a
///   Dispatch timer, never on a loop), re-read when its modification time, size, inode or
///   device changes.
/// - `url`: fetched at load (the load waits for it and fails when it fails); then polled every
///   `refresh` with `If-None-Match` (a 304 keeps the list and counts as loaded). The GET runs
///   on the JWK Set service's queue and libcurl multi handle (5 s connect, 10 s total, 1 MiB,
///   no redirects); a failure keeps the last good list and retries after `refresh`, doubling
///   up to `max(refresh, 60 s)`.
/// - Every document is parsed here, off the loops, and installed in the `RevocationStore`
///   by swapping one reference; a document that does not parse keeps the last good list.
///
/// Metrics: `gateway_revocation_entries` (gauge), `gateway_revocation_refresh_total{source,result}`
/// with result `success`, `not_modified` or `failure`.
///
/// `@unchecked Sendable`: mutable state is confined to `queue`.
public final class RevocationService: @unchecked Sendable {
    let queue = DispatchQueue(label: "gateway.revocation")
    private let jwks: JWKSService
    private let metrics: GatewayMetrics?
    private let logger: Logger
    private let watch: Bool
    private let clock: @Sendable () -> Double
    /// Stores being kept current, by identity.
    private var sources: [ObjectIdentifier: Source] = [:]

    /// One store and the state of its sources. Touched on `queue` only.
    final class Source: @unchecked Sendable {
        let store: RevocationStore
        var config: RevocationConfig { store.config }
        var fileStamp: FileStamp?
        var etag: String?
        var failures = 0
        var timer: DispatchSourceTimer?
        var stopped = false
        init(store: RevocationStore) { self.store = store }
    }

    /// What identifies one version of a file without reading it.
    struct FileStamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mtimeSeconds: Int
        var mtimeNanoseconds: Int

        static func of(_ path: String) -> FileStamp? {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            return FileStamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                             mtimeSeconds: Int(st.st_mtim.tv_sec), mtimeNanoseconds: Int(st.st_mtim.tv_nsec))
        }
    }

    /// - Parameters:
    ///   - jwks: its queue and libcurl multi handle fetch the `url` documents.
    ///   - metrics: nil for one-shot tools (`check`, `explain`).
    ///   - watch: false to load once (tools); true to keep sources current (`serve`).
    public init(jwks: JWKSService, metrics: GatewayMetrics?, logger: Logger, watch: Bool,
                clock: @escaping @Sendable () -> Double = { SystemClock().wholeWallSeconds }) {
        self.jwks = jwks
        self.metrics = metrics
        self.logger = logger
        self.watch = watch
        self.clock = clock
    }

    /// The store for `config`: the running one when only the file may have changed (the file
    /// is re-read now), else a new one after reading the file and fetching the URL, which
    /// this call waits for. Use as `GatewayRuntime`'s `revocation` provider. Must not be
    /// called on this service's or the JWK Set service's queue.
    /// - Throws: `ConfigError` at the `revocation` line when a document cannot be loaded or is invalid.
    public func store(for config: RevocationConfig) throws(ConfigError) -> RevocationStore {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let now = clock()
        func fail(_ source: String, _ why: String) -> ConfigError {
            ConfigError(location: config.location, message: "revocation \(source): \(why)")
        }
        let existing: Source? = queue.sync { sources.values.first { Self.sameSources($0.config, config) && !$0.stopped } }
        var fileList = RevocationList.empty
        var stamp: FileStamp?
        if let path = config.file {
            stamp = FileStamp.of(path)
            switch Self.readFile(path, maxEntries: config.maxEntries, now: now) {
            case .success(let l): fileList = l
            case .failure(let e):
                count("file", "failure")
                throw fail("file \(path)", "\(e)")
            }
            count("file", "success")
        }
        if let existing {
            queue.sync {
                existing.store.replaceFile(fileList)
            releaseParseMemory(Int(stamp?.size ?? 0))
                existing.fileStamp = stamp
                updateGauge(existing.store)
            }
            return existing.store
        }
        var urlList: RevocationList?
        var etag: String?
        if let url = config.url {
            switch fetchAndWait(url, etag: nil) {
            case .document(let bytes, let tag):
                do {
                    urlList = try RevocationDocument.parse(bytes, now: now, maxEntries: config.maxEntries)
                } catch {
                    count("url", "failure")
                    throw fail("url", "\(error)")
                }
                etag = tag
                count("url", "success")
            case .notModified:
                count("url", "failure")
                throw fail("url", "answered 304 to an unconditional GET")
            case .failure(let why):
                count("url", "failure")
                throw fail("url", "cannot load \(url): \(why)")
            }
        }
        releaseParseMemory(Int(stamp?.size ?? 0))
        let store = RevocationStore(config: config, file: fileList, url: urlList, now: now)
        let source = Source(store: store)
        source.fileStamp = stamp
        source.etag = etag
        logger.info("revocation list loaded", metadata: ["entries": "\(store.list.count)"])
        queue.sync {
            sources[ObjectIdentifier(store)] = source
            updateGauge(store)
            if watch { start(source) }
        }
        return store
    }

    /// Most bytes read from a revocation file: 512 bytes an entry, at least 1 MiB.
    public static func maxFileBytes(maxEntries: Int) -> Int {
        max(1 << 20, maxEntries.multipliedReportingOverflow(by: 512).partialValue)
    }

    /// Reads and parses the document at `path` (on this service's queue or at load, never on a loop).
    static func readFile(_ path: String, maxEntries: Int, now: Double) -> Result<RevocationList, RevocationDocumentError> {
        let limit = maxFileBytes(maxEntries: maxEntries)
        guard let f = fopen(path, "rb") else { return .failure(.unavailable("cannot read it: \(FileProblem.describe(path))")) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if bytes.count > limit { return .failure(.tooLarge(max: limit)) }
            if n < chunk.count { break }
        }
        guard ferror(f) == 0 else { return .failure(.unavailable("read error")) }
        do {
            return .success(try RevocationDocument.parse(bytes, now: now, maxEntries: maxEntries))
        } catch {
            return .failure(error)
        }
    }

    /// Stops keeping current every store `runtime` does not use (after a reload, or a refused one).
    public func retain(runtime: GatewayRuntime) {
        let kept = runtime.revocation.map(ObjectIdentifier.init)
        queue.async {
            for (id, s) in self.sources where id != kept {
                s.stopped = true
                s.timer?.cancel()
                s.timer = nil
                self.sources[id] = nil
            }
            if let kept, let s = self.sources[kept] { self.updateGauge(s.store) }
            if kept == nil { self.metrics?.registry.makeGauge(name: Self.entriesMetric, help: Self.entriesHelp).set(Double(0)) }
        }
    }

    /// Same file and URL and limits: the store can stay (the file is re-read).
    static func sameSources(_ a: RevocationConfig, _ b: RevocationConfig) -> Bool {
        a.file == b.file && a.url == b.url && a.refresh == b.refresh && a.maxStale == b.maxStale
            && a.maxEntries == b.maxEntries
    }

    // MARK: Keeping current (on `queue`)

    private func start(_ source: Source) {
        dispatchPrecondition(condition: .onQueue(queue))
        if source.config.file != nil {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(100))
            timer.setEventHandler { [weak self, weak source] in
                guard let self, let source, !source.stopped else { return }
                self.checkFile(source)
            }
            timer.resume()
            source.timer = timer
        }
        if source.config.url != nil { schedulePoll(source, after: source.config.refresh) }
    }

    private func checkFile(_ source: Source) {
        guard let path = source.config.file else { return }
        let stamp = FileStamp.of(path)
        guard stamp != source.fileStamp else { return }
        source.fileStamp = stamp
        guard stamp != nil else {
            count("file", "failure")
            logger.warning("revocation file cannot be read; keeping the last good list",
                           metadata: ["file": "\(path)", "error": "\(FileProblem.describe(path))"])
            return
        }
        switch Self.readFile(path, maxEntries: source.config.maxEntries, now: clock()) {
        case .success(let list):
            source.store.replaceFile(list)
            releaseParseMemory(Int(stamp?.size ?? 0))
            count("file", "success")
            updateGauge(source.store)
            logger.info("revocation file reloaded", metadata: ["file": "\(path)", "entries": "\(list.count)"])
        case .failure(let e):
            count("file", "failure")
            logger.warning("revocation file refused; keeping the last good list",
                           metadata: ["file": "\(path)", "error": "\(e)"])
        }
    }

    private func schedulePoll(_ source: Source, after seconds: Double) {
        queue.asyncAfter(deadline: .now() + seconds) { [weak self, weak source] in
            guard let self, let source, !source.stopped else { return }
            self.poll(source)
        }
    }

    private func poll(_ source: Source) {
        guard let url = source.config.url else { return }
        fetch(url, etag: source.etag) { [weak self] outcome in
            guard let self else { return }
            self.queue.async { self.finishPoll(source, outcome) }
        }
    }

    private func finishPoll(_ source: Source, _ outcome: RevocationDownload.Outcome) {
        guard !source.stopped else { return }
        let now = clock()
        var failure: String?
        switch outcome {
        case .notModified:
            source.store.urlConfirmed(now: now)
            count("url", "not_modified")
        case .document(let bytes, let etag):
            do {
                let list = try RevocationDocument.parse(bytes, now: now, maxEntries: source.config.maxEntries)
                source.store.replaceURL(list, now: now)
                source.etag = etag
                count("url", "success")
                updateGauge(source.store)
                logger.debug("revocation list refreshed", metadata: ["entries": "\(list.count)"])
            } catch {
                failure = "\(error)"
            }
        case .failure(let why):
            failure = why
        }
        guard let failure else {
            source.failures = 0
            return schedulePoll(source, after: source.config.refresh)
        }
        count("url", "failure")
        source.failures += 1
        let retry = Self.retryInterval(failures: source.failures, refresh: source.config.refresh)
        logger.warning("revocation list refresh failed; keeping the last good list",
                       metadata: ["error": "\(failure)", "retry_in_s": "\(Int(retry))"])
        schedulePoll(source, after: retry)
    }

    /// Seconds before the next poll after `failures` failed ones in a row: `refresh`,
    /// doubling, at most `max(refresh, 60)`.
    static func retryInterval(failures: Int, refresh: Double) -> Double {
        let cap = max(refresh, 60)
        let doubled = refresh * Double(1 << min(max(failures - 1, 0), 16))
        return min(doubled, cap)
    }

    // MARK: Fetching (on the JWK Set service's queue and libcurl handle)

    private func fetch(_ url: String, etag: String?, completion: @escaping @Sendable (RevocationDownload.Outcome) -> Void) {
        let jwks = self.jwks
        jwks.queue.async {
            var fields = [HTTPField(name: "Accept", value: "application/json")]
            if let etag { fields.append(HTTPField(name: "If-None-Match", value: etag)) }
            let request = UpstreamRequest(method: "GET", url: url, fields: fields, body: .none,
                                          connectTimeout: JWKSService.connectTimeout, timeout: JWKSService.totalTimeout)
            _ = jwks.upstream.start(request, delegate: RevocationDownload(completion: completion))
        }
    }

    private func fetchAndWait(_ url: String, etag: String?) -> RevocationDownload.Outcome {
        let done = DispatchSemaphore(value: 0)
        let box = OutcomeBox()
        fetch(url, etag: etag) { outcome in
            box.outcome = outcome
            done.signal()
        }
        done.wait()
        return box.outcome ?? .failure("cancelled")
    }

    final class OutcomeBox: @unchecked Sendable {
        var outcome: RevocationDownload.Outcome?
    }

    /// Gives the memory of a parsed document's JSON tree back to the system: glibc keeps
    /// freed heap otherwise, and a large list's tree is several times the list.
    private func releaseParseMemory(_ bytes: Int) {
        guard bytes >= 1 << 20, let trim = Self.mallocTrim else { return }
        _ = trim(0)
    }

    /// glibc's `malloc_trim(3)` (not in the Glibc module's headers), looked up once; nil elsewhere.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    // MARK: Metrics

    static let entriesMetric = "gateway_revocation_entries"
    static let entriesHelp = "Entries in the revocation list in force (file and url merged)."

    private func count(_ source: String, _ result: String) {
        metrics?.counter("gateway_revocation_refresh_total", labels: [("source", source), ("result", result)],
                         help: "Revocation document loads by source (file, url) and result.").increment()
    }

    private func updateGauge(_ store: RevocationStore) {
        metrics?.registry.makeGauge(name: Self.entriesMetric, help: Self.entriesHelp).set(Double(store.list.count))
    }
}
