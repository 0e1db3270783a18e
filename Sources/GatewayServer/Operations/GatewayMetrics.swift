import GatewayCore
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// The gateway's Prometheus metrics, kept in a swift-prometheus registry and
/// served on the admin listener's `/metrics` in the text exposition format.
///
/// Label values are bounded: route names come from the config (or "-" when no route
/// matched), statuses are HTTP codes, reasons a closed set; never paths or subjects.
/// Series handles are created once per label combination and cached per loop
/// (`MetricsCache`), so the hot path does an atomic add, no registry lookup.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Histogram buckets in seconds, suited to sub-millisecond gateway overhead.
    static let durationBuckets: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]
    let openConnections: Gauge
    let reloadSuccess: Prometheus.Counter
    let reloadFailure: Prometheus.Counter
    let lastReloadSuccess: Gauge

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        openConnections = registry.makeGauge(name: "gateway_open_connections", help: "Client connections open now.")
        reloadSuccess = registry.makeCounter(name: "gateway_config_reloads_total", labels: [("result", "success")],
                                             help: "Config reloads by result.")
        reloadFailure = registry.makeCounter(name: "gateway_config_reloads_total", labels: [("result", "failure")],
                                             help: "Config reloads by result.")
        lastReloadSuccess = registry.makeGauge(name: "gateway_config_last_reload_success_timestamp_seconds",
                                               help: "Unix time of the last successful config load or reload.")
    }

    func requests(route: String, status: Int, listener: String? = nil) -> Prometheus.Counter {
        registry.makeCounter(name: "gateway_requests_total", labels: [("route", route), ("status", String(status))] + Self.listenerLabel(listener),
                             help: "Requests answered, by route and status.")
    }

    func requestDuration(route: String, listener: String? = nil) -> ValueHistogram {
        registry.makeValueHistogram(name: "gateway_request_duration_seconds", labels: [("route", route)] + Self.listenerLabel(listener),
                                    buckets: GatewayMetrics.durationBuckets,
                                    help: "Time from request head to the last response byte queued, seconds.")
    }

    func upstreamDuration(route: String) -> ValueHistogram {
        registry.makeValueHistogram(name: "gateway_upstream_duration_seconds", labels: [("route", route)],
                                    buckets: GatewayMetrics.durationBuckets,
                                    help: "Time from starting the upstream exchange to its completion, seconds.")
    }

    func authDecisions(route: String, decision: String, reason: String, listener: String? = nil) -> Prometheus.Counter {
        registry.makeCounter(name: "gateway_auth_decisions_total",
                             labels: [("route", route), ("decision", decision), ("reason", reason)] + Self.listenerLabel(listener),
                             help: "Authentication/authorization decisions, by route, decision and reason.")
    }

    func requestFailures(route: String, reason: String, listener: String? = nil) -> Prometheus.Counter {
        registry.makeCounter(name: "gateway_request_failures_total", labels: [("route", route), ("reason", reason)] + Self.listenerLabel(listener),
                             help: "Requests that ended in an error (malformed, timeouts, upstream failures, "
                                 + "responses cut short), by route and reason.")
    }

    /// `listener="decision"` on the decision listener's series; the proxy listener's series
    /// have no `listener` label (they are the ones dashboards already use).
    static func listenerLabel(_ listener: String?) -> [(String, String)] {
        listener.map { [("listener", $0)] } ?? []
    }

    /// Any other counter (JWKS refreshes, token cache hits/misses...).
    public func counter(_ name: String, labels: [(String, String)], help: String) -> Prometheus.Counter {
        registry.makeCounter(name: name, labels: labels, help: help)
    }

    /// Records a config load/reload outcome at Unix time `now`.
    public func recordReload(success: Bool, now: Double) {
        if success {
            reloadSuccess.increment()
            lastReloadSuccess.set(now)
        } else {
            reloadFailure.increment()
        }
    }

    /// Counters kept elsewhere (the verified-token cache, the JWK Set fetcher), copied in
    /// at scrape time. Only the admin queue calls `exposition`, so this needs no lock.
    private let snapshots = SnapshotCounters()

    /// Brings the snapshot-based series up to date: token cache hits/misses/evictions
    /// (a reload starts a new cache; the series keep counting across it) and JWK Set
    /// refresh results per issuer.
    /// `jwksAges`: seconds since each remote issuer's key set was fetched, by issuer name
    /// (`gateway_jwks_age_seconds{issuer}`).
    public func sync(runtime: GatewayRuntime, jwksRefreshTotals: [String: [String: Int]], jwksAges: [String: Double] = [:]) {
        for (issuer, age) in jwksAges {
            registry.makeGauge(name: "gateway_jwks_age_seconds", labels: [("issuer", issuer)],
                               help: "Seconds since the issuer's JWK Set in use was fetched.").set(age)
        }
        if let cache = runtime.tokenCache {
            let stats = cache.statistics
            let source = ObjectIdentifier(cache)
            snapshots.add("gateway_token_cache_hits_total", [], stats.hits, source: source, registry: registry,
                          help: "Verified-token cache hits.")
            snapshots.add("gateway_token_cache_misses_total", [], stats.misses, source: source, registry: registry,
                          help: "Verified-token cache misses.")
            snapshots.add("gateway_token_cache_evictions_total", [], stats.evictions, source: source, registry: registry,
                          help: "Verified-token cache entries evicted to stay under the caps.")
            registry.makeGauge(name: "gateway_token_cache_entries", help: "Entries in the verified-token cache.")
                .set(Double(stats.entries))
        }
        for (issuer, results) in jwksRefreshTotals {
            for (result, count) in results {
                snapshots.add("gateway_jwks_refresh_total", [("issuer", issuer), ("result", result)], count, source: nil,
                              registry: registry, help: "JWK Set fetches by issuer and result.")
            }
        }
    }

    /// The exposition text (`text/plain; version=0.0.4`).
    public func exposition() -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}

/// Per-loop cache of series handles, so requests never take the registry's lock
/// after the first use of a label combination. Touched only on its loop's queue.
final class MetricsCache {
    let metrics: GatewayMetrics
    private var requests: [RequestKey: Prometheus.Counter] = [:]
    private var durations: [String: ValueHistogram] = [:]
    private var upstreamDurations: [String: ValueHistogram] = [:]
    private var decisions: [DecisionKey: Prometheus.Counter] = [:]
    private var failures: [FailureKey: Prometheus.Counter] = [:]

    struct RequestKey: Hashable { var route: String; var status: Int }
    struct DecisionKey: Hashable { var route: String; var decision: String; var reason: String }
    struct FailureKey: Hashable { var route: String; var reason: String }

    /// Nil on the proxy listener; "decision" on the decision listener.
    let listener: String?

    init(metrics: GatewayMetrics, listener: String? = nil) {
        self.metrics = metrics
        self.listener = listener
    }

    /// The series of the last request recorded: most requests in a row share route, status,
    /// decision and reason, and then no dictionary is hashed. A class, so that looking at it
    /// costs one retain rather than a copy of every field.
    private final class Last {
        let route: String?
        let status: Int
        let decision: RequestRecord.Decision
        let reason: String
        let requests: Prometheus.Counter
        let duration: ValueHistogram
        let upstreamDuration: ValueHistogram?
        let decisions: Prometheus.Counter

        init(route: String?, status: Int, decision: RequestRecord.Decision, reason: String, requests: Prometheus.Counter,
             duration: ValueHistogram, upstreamDuration: ValueHistogram?, decisions: Prometheus.Counter) {
            self.route = route
            self.status = status
            self.decision = decision
            self.reason = reason
            self.requests = requests
            self.duration = duration
            self.upstreamDuration = upstreamDuration
            self.decisions = decisions
        }

        /// Records `r` when it belongs to these series; false (nothing recorded) otherwise.
        func record(_ r: RequestRecord) -> Bool {
            guard status == r.status, decision == r.decision, route == r.route, reason == r.reason,
                  r.upstreamSeconds == nil || upstreamDuration != nil else { return false }
            requests.increment()
            duration.record(r.totalSeconds)
            if let u = r.upstreamSeconds { upstreamDuration?.record(u) }
            decisions.increment()
            return true
        }
    }
    private var last: Last?

    /// Records one finished request.
    func record(_ r: RequestRecord) {
        if let l = last, l.record(r) { return }
        recordAndRemember(r, route: r.route ?? "-")
    }

    private func recordAndRemember(_ r: RequestRecord, route: String) {
        let key = RequestKey(route: route, status: r.status)
        if let c = requests[key] { c.increment() } else {
            let c = metrics.requests(route: route, status: r.status, listener: listener)
            requests[key] = c
            c.increment()
        }
        let d = durations[route] ?? { let h = metrics.requestDuration(route: route, listener: listener); durations[route] = h; return h }()
        d.record(r.totalSeconds)
        if let u = r.upstreamSeconds {
            let h = upstreamDurations[route]
                ?? { let h = metrics.upstreamDuration(route: route); upstreamDurations[route] = h; return h }()
            h.record(u)
        }
        if r.decision != .error {
            let dk = DecisionKey(route: route, decision: r.decision.rawValue, reason: r.reason)
            let decisionCounter: Prometheus.Counter
            if let c = decisions[dk] { decisionCounter = c } else {
                decisionCounter = metrics.authDecisions(route: route, decision: dk.decision, reason: dk.reason, listener: listener)
                decisions[dk] = decisionCounter
            }
            decisionCounter.increment()
            if let c = requests[RequestKey(route: route, status: r.status)], let d = durations[route] {
                last = Last(route: r.route, status: r.status, decision: r.decision, reason: r.reason, requests: c, duration: d,
                            upstreamDuration: upstreamDurations[route], decisions: decisionCounter)
            }
        } else {
            // A response cut short (client_closed, drain_timeout, upstream_aborted...) is
            // counted here with its reason, never as a success.
            let fk = FailureKey(route: route, reason: r.reason)
            if let c = failures[fk] { c.increment() } else {
                let c = metrics.requestFailures(route: route, reason: fk.reason, listener: listener)
                failures[fk] = c
                c.increment()
            }
        }
    }
}

/// Monotonic counters mirrored from totals kept by other components: each `add` increments
/// the Prometheus counter by how much the total grew since the last look. A new `source`
/// (e.g. the token cache of a reloaded config) starts from zero again.
final class SnapshotCounters: @unchecked Sendable {
    private struct Seen { var source: ObjectIdentifier?; var value: Int }
    private var seen: [String: Seen] = [:]
    private let lock = Mutex()

    func add(_ name: String, _ labels: [(String, String)], _ total: Int, source: ObjectIdentifier?,
             registry: PrometheusCollectorRegistry, help: String) {
        let key = name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        let delta = lock.withLock {
            var entry = seen[key] ?? Seen(source: source, value: 0)
            if entry.source != source { entry = Seen(source: source, value: 0) }
            let delta = total - entry.value
            if delta > 0 { entry.value = total }
            seen[key] = entry
            return delta
        }
        let counter = registry.makeCounter(name: name, labels: labels, help: help)
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }
}
