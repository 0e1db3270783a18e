import Dispatch
import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayUpstream
import Logging

/// Why a JWK Set could not be fetched. Texts name no key material and no URL query.
public enum JWKSFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Connect, TLS, timeout or a broken response (libcurl's short message).
    case transport(UpstreamError)
    /// The server answered with a status other than 200.
    case status(Int)
    /// The document is over `KeySet.maxJWKSetBytes` (1 MiB).
    case tooLarge
    /// Not a JWK Set with a usable key (`KeyLoadError`'s text).
    case invalid(String)

    public var description: String {
        switch self {
        case .transport(let e):
            switch e {
            case .timeout: return "timed out"
            case .connectFailed(let m), .invalidResponse(let m), .aborted(let m): return m
            case .cancelled: return "cancelled"
            }
        case .status(let s): return "HTTP status \(s)"
        case .tooLarge: return "JWK Set over \(KeySet.maxJWKSetBytes) bytes"
        case .invalid(let why): return why
        }
    }
}

/// Fetches and refreshes the remote JWK Sets of issuers with `jwks_url` (SPEC §3, §4).
///
/// One serial queue of its own with its own libcurl multi handle (`UpstreamLoop`), so a
/// fetch never runs on, or blocks, a listener loop. Each GET has a 5 s connect and 10 s
/// total timeout and a 1 MiB body limit. Per issuer:
/// - the first fetch happens in `keyStore(for:url:)`, which waits for it (startup and
///   reload only, never on a loop queue); failure is a config error at `jwks_url`;
/// - then a refresh every `jwks_refresh` (or `Cache-Control: max-age` when shorter,
///   never under 30 s); a failed refresh keeps the last good set, is logged, and is
///   retried after 30 s, 60 s, 120 s... (at most `jwks_refresh`);
/// - an unknown `kid` triggers at most one refetch per 30 s (`IssuerKeyStore`).
///
/// `@unchecked Sendable`: mutable state is confined to `queue`.
public final class JWKSService: @unchecked Sendable {
    /// Seconds for the TCP connect and TLS handshake of a fetch.
    public static let connectTimeout: Double = 5
    /// Seconds for a whole fetch.
    public static let totalTimeout: Double = 10

    let queue = DispatchQueue(label: "gateway.jwks")
    /// Also carries the revocation list polls (`RevocationService`): one libcurl multi handle for both.
    let upstream: UpstreamLoop
    private let logger: Logger
    private var sources: [String: Source] = [:]

    /// `@unchecked Sendable`: touched on `queue` only.
    final class Source: @unchecked Sendable {
        let issuerName: String
        let url: String
        let store: IssuerKeyStore
        var refresh: Double
        var failures = 0
        /// Fetches after the first, by result ("success"/"failure"), for metrics.
        var results: [String: Int] = [:]
        /// Bumped to cancel the scheduled refresh.
        var timerToken: UInt64 = 0
        /// Fetches are numbered when they start; a result is installed only when it is newer
        /// than the installed one, so a slow periodic refresh cannot undo a later refetch.
        var fetchSequence: UInt64 = 0
        var installedSequence: UInt64 = 0
        init(issuerName: String, url: String, store: IssuerKeyStore, refresh: Double) {
            self.issuerName = issuerName
            self.url = url
            self.store = store
            self.refresh = refresh
        }
    }

    public init(logger: Logger) {
        self.logger = logger
        let q = queue
        var loop: UpstreamLoop?
        q.sync { loop = UpstreamLoop(queue: q) }
        self.upstream = loop!
    }

    /// The store for an issuer with `jwks_url`: the one already refreshed by this service
    /// when the issuer (name and URL) is unchanged since the last load, else a new one after
    /// a first fetch that this call waits for. Use as `GatewayRuntime`'s `remoteKeys`.
    /// Must not be called on a loop queue or on this service's queue.
    /// - Throws: `ConfigError` at the issuer's `jwks_url` when the first fetch fails.
    public func keyStore(for issuer: IssuerConfig, url: String) throws(ConfigError) -> IssuerKeyStore {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let key = issuer.name + "\n" + url
        let existing: IssuerKeyStore? = queue.sync {
            guard let s = sources[key] else { return nil }
            s.refresh = issuer.jwksRefresh
            return s.store
        }
        if let existing { return existing }
        let result = fetchAndWait(url)
        let fetched: Fetched
        switch result {
        case .failure(let e):
            throw ConfigError(location: issuer.keySourceLocation,
                              message: "issuer \(issuer.name): cannot fetch the JWK Set from jwks_url: \(e)")
        case .success(let f): fetched = f
        }
        let store = IssuerKeyStore(keys: fetched.keys, jwksURL: url)
        let source = Source(issuerName: issuer.name, url: url, store: store, refresh: issuer.jwksRefresh)
        store.setRefetcher { [weak self] store in
            // Waiting requests must always be woken, even with the service gone.
            guard let self else { return store.finishRefetch(nil) }
            self.queue.async { self.refetch(source) }
        }
        logger.info("JWK Set fetched", metadata: ["issuer": "\(issuer.name)", "keys": "\(fetched.keys.keys.count)"])
        queue.sync {
            sources[key]?.timerToken += 1
            sources[key] = source
            schedule(source, after: JWKSRefreshPolicy.interval(configured: source.refresh, maxAge: fetched.maxAge))
        }
        return store
    }

    /// Refreshes and refetches so far by issuer name, then result (`success`, `failure`):
    /// the future `gateway_jwks_refresh_total{issuer,result}`. Not on this service's queue.
    public var refreshTotals: [String: [String: Int]] {
        queue.sync {
            var out: [String: [String: Int]] = [:]
            for s in sources.values { out[s.issuerName, default: [:]].merge(s.results, uniquingKeysWith: +) }
            return out
        }
    }

    /// Stops refreshing every source the config `runtime` does not use (an issuer dropped,
    /// or its `jwks_url` changed), e.g. after a reload, or after a refused one.
    public func retain(runtime: GatewayRuntime) {
        var used = Set<String>()
        for issuer in runtime.config.issuers {
            if case .jwksURL(let url) = issuer.keySource { used.insert(issuer.name + "\n" + url) }
        }
        let keys = used
        queue.async {
            for (key, s) in self.sources where !keys.contains(key) {
                s.timerToken += 1
                s.store.setRefetcher(nil)
                self.sources[key] = nil
            }
        }
    }

    // MARK: Refreshing (on `queue`)

    private func schedule(_ source: Source, after seconds: Double) {
        source.timerToken += 1
        let token = source.timerToken
        queue.asyncAfter(deadline: .now() + seconds) { [weak self, weak source] in
            guard let self, let source, source.timerToken == token else { return }
            self.refresh(source)
        }
    }

    private func refresh(_ source: Source) {
        source.fetchSequence += 1
        let sequence = source.fetchSequence
        fetch(source.url) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let f):
                source.results["success", default: 0] += 1
                if sequence > source.installedSequence {
                    source.installedSequence = sequence
                    source.store.replace(f.keys)
                }
                source.failures = 0
                self.logger.debug("JWK Set refreshed", metadata: ["issuer": "\(source.issuerName)",
                                                                  "keys": "\(f.keys.keys.count)"])
                self.schedule(source, after: JWKSRefreshPolicy.interval(configured: source.refresh, maxAge: f.maxAge))
            case .failure(let e):
                source.results["failure", default: 0] += 1
                source.failures += 1
                let retry = JWKSRefreshPolicy.retryInterval(failures: source.failures, configured: source.refresh)
                self.logger.warning("JWK Set refresh failed; keeping the last good keys",
                                    metadata: ["issuer": "\(source.issuerName)", "error": "\(e)",
                                               "retry_in_s": "\(Int(retry))"])
                self.schedule(source, after: retry)
            }
        }
    }

    /// An unknown-`kid` refetch, started by the store (at most one per 30 s).
    private func refetch(_ source: Source) {
        source.fetchSequence += 1
        let sequence = source.fetchSequence
        fetch(source.url) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let f):
                source.results["success", default: 0] += 1
                if sequence > source.installedSequence {
                    source.installedSequence = sequence
                    source.store.finishRefetch(f.keys)
                } else {
                    source.store.finishRefetch(nil)  // a newer set is already installed
                }
                source.failures = 0
                self.logger.info("JWK Set refetched for an unknown key ID",
                                 metadata: ["issuer": "\(source.issuerName)", "keys": "\(f.keys.keys.count)"])
                self.schedule(source, after: JWKSRefreshPolicy.interval(configured: source.refresh, maxAge: f.maxAge))
            case .failure(let e):
                source.results["failure", default: 0] += 1
                source.store.finishRefetch(nil)
                self.logger.warning("JWK Set refetch failed; keeping the last good keys",
                                    metadata: ["issuer": "\(source.issuerName)", "error": "\(e)"])
            }
        }
    }

    // MARK: Fetching

    struct Fetched {
        var keys: KeySet
        var maxAge: Double?
    }

    /// One GET of `url`; `completion` runs on `queue`. Call on `queue`.
    func fetch(_ url: String, completion: @escaping (Result<Fetched, JWKSFetchError>) -> Void) {
        dispatchPrecondition(condition: .onQueue(queue))
        let request = UpstreamRequest(
            method: "GET", url: url,
            fields: [HTTPField(name: "Accept", value: "application/jwk-set+json, application/json")],
            body: .none, connectTimeout: JWKSService.connectTimeout, timeout: JWKSService.totalTimeout)
        let download = JWKSDownload(completion: completion)
        _ = upstream.start(request, delegate: download)
    }

    /// `fetch` from another thread, waiting for the result.
    func fetchAndWait(_ url: String) -> Result<Fetched, JWKSFetchError> {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        queue.async {
            self.fetch(url) { r in
                box.result = r
                done.signal()
            }
        }
        done.wait()
        return box.result ?? .failure(.transport(.cancelled))
    }

    final class ResultBox: @unchecked Sendable {
        var result: Result<Fetched, JWKSFetchError>?
    }
}

/// Collects one JWK Set response (status 200, body ≤ 1 MiB) and parses it.
final class JWKSDownload: UpstreamTransferDelegate {
    private let completion: (Result<JWKSService.Fetched, JWKSFetchError>) -> Void
    private var status = 0
    private var maxAge: Double?
    private var body: [UInt8] = []
    private var failure: JWKSFetchError?

    init(completion: @escaping (Result<JWKSService.Fetched, JWKSFetchError>) -> Void) {
        self.completion = completion
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead status: Int, fields: [HTTPField]) {
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
        do {
            completion(.success(JWKSService.Fetched(keys: try KeySet.jwkSet(json: body), maxAge: maxAge)))
        } catch {
            if case .invalid(let why) = error { return completion(.failure(.invalid(why))) }
            completion(.failure(.invalid("not a JWK Set")))
        }
    }
}
