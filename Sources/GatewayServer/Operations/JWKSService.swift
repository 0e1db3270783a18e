import Dispatch
import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayUpstream
import Logging

/// Fetches and refreshes the remote JWK Sets of issuers with `jwks_url` or `discovery: true`
/// (docs: README "Keys").
///
/// With discovery, every fetch first reads the OpenID Provider configuration document
/// (OpenID Connect Discovery 1.0 §4): its `issuer` must equal the configured one byte for
/// byte (RFC 8414 §3.3), then its `jwks_uri` is fetched like a `jwks_url`. A document that
/// fails these checks fails the fetch (a config error first, later a failed refresh that
/// keeps the last good keys).
///
/// One serial queue of its own with its own libcurl multi handle (`UpstreamLoop`), so a
/// fetch never runs on, or blocks, a listener loop. Each GET has a 5 s connect and 10 s
/// total timeout and a 1 MiB body limit. Per issuer:
/// - the first fetch happens in `keyStore(for:startWithoutKeys:)`, which waits for it
///   (startup and reload only, never on a loop queue). When it fails: a config error at the
///   key source (`gateway check`, reloads), or, at `serve` startup, a store without keys
///   that is retried after 1 s, 2 s, 4 s... (at most 60 s) until a fetch succeeds;
/// - then a refresh every `jwks_refresh` (or `Cache-Control: max-age` when shorter,
///   never under 30 s); a failed refresh keeps the last good set, is logged, and is
///   retried after 30 s, 60 s, 120 s... (at most `jwks_refresh`);
/// - an unknown `kid` triggers at most one refetch per 30 s: the store answers `.fetch`
///   to one request and `refetchForUnknownKey(_:completion:)` performs it.
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
    /// First fetches started together by `prefetch`, by source key, until `keyStore` takes them.
    private var prefetched: [String: Result<Fetched, JWKSFetchError>] = [:]

    /// `@unchecked Sendable`: touched on `queue` only.
    final class Source: @unchecked Sendable {
        let issuerName: String
        let location: RemoteKeys
        var url: String { location.url }
        let store: IssuerKeyStore
        var refresh: Double
        var failures = 0
        /// Fetches after the first, by result ("success"/"failure"), for metrics.
        var results: [String: Int] = [:]
        /// Unix time the installed set was fetched; nil while the issuer has no keys.
        var installedAt: Double?
        /// Bumped to cancel the scheduled refresh.
        var timerToken: UInt64 = 0
        /// Fetches are numbered when they start; a result is installed only when it is newer
        /// than the installed one, so a slow periodic refresh cannot undo a later refetch.
        var fetchSequence: UInt64 = 0
        var installedSequence: UInt64 = 0
        init(issuerName: String, location: RemoteKeys, store: IssuerKeyStore, refresh: Double) {
            self.issuerName = issuerName
            self.location = location
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

    /// Where remote keys come from.
    enum RemoteKeys: Equatable {
        /// A JWK Set URL (`jwks_url`).
        case jwks(String)
        /// An OpenID Provider configuration URL and the `issuer` it must name.
        case discovery(String, issuer: String)

        /// The URL fetched first.
        var url: String {
            switch self {
            case .jwks(let url), .discovery(let url, _): url
            }
        }

        /// Config key and words for messages.
        var what: String {
            switch self {
            case .jwks: "the JWK Set from jwks_url"
            case .discovery: "the keys through discovery"
            }
        }
    }

    /// Where an issuer's keys are fetched from, or nil when they are not remote.
    static func remoteKeys(_ issuer: IssuerConfig) -> RemoteKeys? {
        switch issuer.keySource {
        case .jwksURL(let url): .jwks(url)
        case .discovery(let url): .discovery(url, issuer: issuer.issuer)
        case .jwksFile, .publicKeyFile, .secretEnv: nil
        }
    }

    /// Identifies a source across reloads: issuer name and key location.
    static func sourceKey(_ issuer: IssuerConfig) -> String? {
        guard let location = remoteKeys(issuer) else { return nil }
        switch location {
        case .jwks(let url): return issuer.name + "\njwks\n" + url
        case .discovery(let url, let iss): return issuer.name + "\ndiscovery\n" + url + "\n" + iss
        }
    }

    /// Starts the first fetch of every remote issuer in `issuers` that this service does not
    /// refresh yet, all at once, and waits for them (at most `totalTimeout` plus discovery's
    /// second request): a config with several unreachable identity providers waits for the
    /// slowest one, not for their sum. `keyStore(for:)` then uses these results. Must not be
    /// called on this service's queue.
    public func prefetch(_ issuers: [IssuerConfig]) {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let group = DispatchGroup()
        queue.sync {
            prefetched = [:]
            for issuer in issuers {
                guard let key = Self.sourceKey(issuer), let location = Self.remoteKeys(issuer), sources[key] == nil,
                      prefetched[key] == nil else { continue }
                group.enter()
                fetch(location) { result in
                    self.prefetched[key] = result
                    group.leave()
                }
            }
        }
        group.wait()
    }

    /// `keyStore(for:startWithoutKeys:)` as `GatewayRuntime`'s remote key provider.
    public func remoteKeys(startWithoutKeys: Bool = false) -> RemoteKeyStoreProvider {
        { issuer throws(ConfigError) in try self.keyStore(for: issuer, startWithoutKeys: startWithoutKeys) }
    }

    /// The store for an issuer with remote keys: the one already refreshed by this service
    /// when the issuer (name and URL) is unchanged since the last load, else a new one after
    /// a first fetch that this call waits for. Must not be called on a loop queue or on this
    /// service's queue.
    /// - Parameter startWithoutKeys: when the first fetch fails, log it and return a store
    ///   without keys that keeps being retried (1 s doubling to 60 s), instead of throwing.
    /// - Throws: `ConfigError` at the issuer's key source when the first fetch fails (and
    ///   `startWithoutKeys` is false).
    public func keyStore(for issuer: IssuerConfig, startWithoutKeys: Bool = false) throws(ConfigError) -> IssuerKeyStore {
        dispatchPrecondition(condition: .notOnQueue(queue))
        guard let location = Self.remoteKeys(issuer), let key = Self.sourceKey(issuer) else {
            throw ConfigError(location: issuer.keySourceLocation, message: "issuer \(issuer.name): keys are not remote")
        }
        let url = location.url
        let existing: IssuerKeyStore? = queue.sync {
            guard let s = sources[key] else { return nil }
            s.refresh = issuer.jwksRefresh
            return s.store
        }
        if let existing { return existing }
        let result = queue.sync { prefetched.removeValue(forKey: key) } ?? fetchAndWait(location)
        let store: IssuerKeyStore
        let fetched: Fetched?
        switch result {
        case .failure(let e):
            let message = "issuer \(issuer.name): cannot fetch \(location.what): \(e)"
            guard startWithoutKeys else { throw ConfigError(location: issuer.keySourceLocation, message: message) }
            logger.error("cannot fetch the issuer's keys; starting without them and retrying",
                         metadata: ["issuer": "\(issuer.name)", "error": "\(e)",
                                    "retry_in_s": "\(Int(JWKSRefreshPolicy.startupRetryInterval(failures: 1)))"])
            store = IssuerKeyStore(awaitingKeysFrom: url)
            fetched = nil
        case .success(let f):
            logger.info("JWK Set fetched", metadata: ["issuer": "\(issuer.name)", "keys": "\(f.keys.keys.count)"])
            store = IssuerKeyStore(keys: f.keys, jwksURL: url)
            fetched = f
        }
        let source = Source(issuerName: issuer.name, location: location, store: store, refresh: issuer.jwksRefresh)
        let now = wallClockSeconds()
        queue.sync {
            sources[key]?.timerToken += 1
            sources[key] = source
            if let fetched {
                source.installedAt = now
                schedule(source, after: JWKSRefreshPolicy.interval(configured: source.refresh, maxAge: fetched.maxAge))
            } else {
                source.failures = 1
                schedule(source, after: JWKSRefreshPolicy.startupRetryInterval(failures: 1))
            }
        }
        return store
    }

    /// Performs what `IssuerKeyStore.refetchForUnknownKey` asks for (a token named an unknown
    /// `kid`): `completion` runs exactly once, on an arbitrary thread, with true when a new
    /// set was installed. Call from any queue.
    public func refetchForUnknownKey(_ store: IssuerKeyStore, completion: @escaping @Sendable (Bool) -> Void) {
        guard store.refetchForUnknownKey(now: monotonicSeconds(), completion: completion) == .fetch else { return }
        queue.async {
            guard let source = self.sources.values.first(where: { $0.store === store }) else {
                // The issuer left the config meanwhile: wake the waiting requests.
                return store.finishRefetch(nil)
            }
            self.refetch(source)
        }
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

    /// Seconds since each remote issuer's installed key set was fetched, by issuer name, at
    /// Unix time `now` (issuers still without keys are absent). Not on this service's queue.
    public func keySetAges(now: Double) -> [String: Double] {
        queue.sync {
            var out: [String: Double] = [:]
            for s in sources.values {
                guard let at = s.installedAt else { continue }
                out[s.issuerName] = max(0, now - at)
            }
            return out
        }
    }

    /// Stops refreshing every source the config `runtime` does not use (an issuer dropped,
    /// or its key URL changed), e.g. after a reload, or after a refused one.
    public func retain(runtime: GatewayRuntime) {
        var used = Set<String>()
        for issuer in runtime.config.issuers {
            if let key = Self.sourceKey(issuer) { used.insert(key) }
        }
        let keys = used
        queue.async {
            for (key, s) in self.sources where !keys.contains(key) {
                s.timerToken += 1
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

    /// Installs `keys` fetched by fetch number `sequence` unless a newer fetch's set is
    /// already installed; returns whether it was installed.
    private func install(_ keys: KeySet, sequence: UInt64, into source: Source, viaRefetch: Bool) -> Bool {
        guard sequence > source.installedSequence else {
            if viaRefetch { source.store.finishRefetch(nil) }
            return false
        }
        let first = source.store.snapshot.awaitingKeys
        source.installedSequence = sequence
        source.installedAt = wallClockSeconds()
        if viaRefetch { source.store.finishRefetch(keys) } else { source.store.replace(keys) }
        if first {
            logger.notice("JWK Set fetched; the issuer has keys now",
                          metadata: ["issuer": "\(source.issuerName)", "keys": "\(keys.keys.count)"])
        }
        return true
    }

    private func refresh(_ source: Source) {
        source.fetchSequence += 1
        let sequence = source.fetchSequence
        fetch(source.location) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let f):
                source.results["success", default: 0] += 1
                _ = self.install(f.keys, sequence: sequence, into: source, viaRefetch: false)
                source.failures = 0
                self.logger.debug("JWK Set refreshed", metadata: ["issuer": "\(source.issuerName)",
                                                                  "keys": "\(f.keys.keys.count)"])
                self.schedule(source, after: JWKSRefreshPolicy.interval(configured: source.refresh, maxAge: f.maxAge))
            case .failure(let e):
                source.results["failure", default: 0] += 1
                source.failures += 1
                if source.store.snapshot.awaitingKeys {
                    let retry = JWKSRefreshPolicy.startupRetryInterval(failures: source.failures)
                    self.logger.error("cannot fetch the issuer's keys; its requests are answered 503 until a fetch succeeds",
                                      metadata: ["issuer": "\(source.issuerName)", "error": "\(e)",
                                                 "retry_in_s": "\(Int(retry))"])
                    self.schedule(source, after: retry)
                } else {
                    let retry = JWKSRefreshPolicy.retryInterval(failures: source.failures, configured: source.refresh)
                    self.logger.warning("JWK Set refresh failed; keeping the last good keys",
                                        metadata: ["issuer": "\(source.issuerName)", "error": "\(e)",
                                                   "retry_in_s": "\(Int(retry))"])
                    self.schedule(source, after: retry)
                }
            }
        }
    }

    /// An unknown-`kid` refetch (at most one per 30 s per issuer, as the store decided).
    private func refetch(_ source: Source) {
        source.fetchSequence += 1
        let sequence = source.fetchSequence
        fetch(source.location) { [weak self] result in
            guard let self else { return source.store.finishRefetch(nil) }
            switch result {
            case .success(let f):
                source.results["success", default: 0] += 1
                _ = self.install(f.keys, sequence: sequence, into: source, viaRefetch: true)
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

    /// The keys at `location`: for discovery, the document (re-read every time) and then the
    /// JWK Set it names. `completion` runs on `queue`. Call on `queue`.
    func fetch(_ location: RemoteKeys, completion: @escaping (Result<Fetched, JWKSFetchError>) -> Void) {
        switch location {
        case .jwks(let url):
            fetch(url, completion: completion)
        case .discovery(let url, let issuer):
            get(url, accept: "application/json") { [weak self] result in
                switch result {
                case .failure(let e):
                    completion(.failure(.discovery(e)))
                case .success(let doc):
                    switch DiscoveryDocument.jwksURI(doc.body, expectedIssuer: issuer) {
                    case .failure(let e): completion(.failure(e))
                    case .success(let jwksURI):
                        guard let self else { return completion(.failure(.transport(.cancelled))) }
                        self.fetch(jwksURI) { keys in
                            // The shorter of the two documents' max-age decides the next refresh.
                            completion(keys.map { f in
                                var f = f
                                if let m = doc.maxAge { f.maxAge = min(f.maxAge ?? m, m) }
                                return f
                            }.mapError { .jwksURI(jwksURI, $0) })
                        }
                    }
                }
            }
        }
    }

    /// One GET of the JWK Set at `url`, parsed; `completion` runs on `queue`. Call on `queue`.
    func fetch(_ url: String, completion: @escaping (Result<Fetched, JWKSFetchError>) -> Void) {
        get(url, accept: "application/jwk-set+json, application/json") { result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let doc):
                let keys: KeySet
                do throws(KeyLoadError) { keys = try KeySet.jwkSet(json: doc.body) } catch {
                    switch error { case .invalid(let why): return completion(.failure(.invalid(why))) }
                }
                completion(.success(Fetched(keys: keys, maxAge: doc.maxAge)))
            }
        }
    }

    /// One GET of a small JSON document; `completion` runs on `queue`. Call on `queue`.
    func get(_ url: String, accept: String, completion: @escaping (Result<JWKSDownload.Document, JWKSFetchError>) -> Void) {
        dispatchPrecondition(condition: .onQueue(queue))
        let request = UpstreamRequest(
            method: "GET", url: url, fields: [HTTPField(name: "Accept", value: accept)],
            body: .none, connectTimeout: JWKSService.connectTimeout, timeout: JWKSService.totalTimeout)
        let download = JWKSDownload(completion: completion)
        _ = upstream.start(request, delegate: download)
    }

    /// `fetch` from another thread, waiting for the result.
    func fetchAndWait(_ location: RemoteKeys) -> Result<Fetched, JWKSFetchError> {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        queue.async {
            self.fetch(location) { r in
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
