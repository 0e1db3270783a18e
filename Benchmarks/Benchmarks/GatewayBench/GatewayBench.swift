// Micro-benchmarks of the gateway's per-request work (issue 6), with ordo-one/benchmark:
// wall time and mallocs per operation. Run with `make bench-micro`. Everything is pure and
// in-process: no sockets, no files.
import Benchmark
import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

/// The request wrk sends in the load benchmark (Benchmarks/harness, `wrk/auth.lua`), with
/// a token of the same shape.
func requestBytes(token: String) -> [UInt8] {
    Array(("GET /api/users/42 HTTP/1.1\r\nHost: 127.0.0.1:18090\r\n"
        + "Authorization: Bearer \(token)\r\n\r\n").utf8)
}

let issuer = "https://issuer.bench.local"
let now = 1_800_000_000.0
let claims = JSONValue.object([
    ("iss", .string(issuer)), ("aud", .string("bench-api")), ("sub", .string("user-42")),
    ("scope", .string("read:users write:projects")), ("iat", .number(now - 60)), ("exp", .number(now + 3600)),
])

/// One signed token and its key set per algorithm.
struct Signed {
    let token: String
    let keys: KeySet
    let requirements: TokenRequirements
}

func signed(_ alg: JWSAlgorithm) -> Signed {
    let key = try! SigningKey.generate(for: alg)
    let token = try! key.sign(claims: claims, algorithm: alg, keyID: "k1")
    return Signed(token: token, keys: KeySet(keys: [key.verificationKey(keyID: "k1")]),
                  requirements: TokenRequirements(issuer: issuer, audiences: ["bench-api"], algorithms: [alg]))
}

/// A runtime like the load benchmark's gateway-hs256 target (one protected route), plus a
/// few more routes so that matching is not trivially the first entry.
func runtime(secret: String) -> GatewayRuntime {
    let yaml = """
    listen: {address: "127.0.0.1:0"}
    issuers:
      - name: bench
        issuer: \(issuer)
        audiences: [bench-api]
        algorithms: [HS256]
        secret_env: BENCH_SECRET
    upstreams:
      app: {url: "http://127.0.0.1:18080"}
    routes:
      - {name: health, match: {path: /healthz}, upstream: app, auth: public}
      - {name: admin, match: {path_prefix: /admin/}, upstream: app, auth: {issuers: [bench], scopes: [admin]}}
      - {name: orders, match: {path_prefix: /api/orders/, methods: [GET, POST]}, upstream: app, auth: {issuers: [bench]}}
      - {name: users, match: {path_prefix: /api/users/}, upstream: app, auth: {issuers: [bench], scopes: [read:users]}}
    """
    let env = ["BENCH_SECRET": secret]
    let config = try! ConfigLoader.parse(yaml: yaml, path: "bench.yml", environment: env)
    // HMAC only: no key file to read.
    let material = KeyMaterialProvider(environment: env, readFile: { _ throws(KeyFileError) in
        throw KeyFileError(reason: "not used")
    })
    return try! GatewayRuntime(config: config, keyMaterial: material)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000)

    let rs = signed(.RS256)
    let requestRS = requestBytes(token: rs.token)

    Benchmark("request-head parse (RS256 token, 3 fields)") { benchmark in
        for _ in benchmark.scaledIterations {
            var parser = HTTPRequestParser()
            let event = requestRS.withUnsafeBytes { try! parser.parse($0) }
            blackHole(event)
        }
    }

    let rt = runtime(secret: "0123456789abcdef0123456789abcdef")
    Benchmark("path normalisation + route match (4 routes)") { benchmark in
        for _ in benchmark.scaledIterations {
            let t = try! PathNormalizer.normalize("/api/users/42?fields=name")
            blackHole(rt.routeTable.match(host: "127.0.0.1:18090", path: t.path, method: "GET"))
        }
    }

    for alg in [JWSAlgorithm.RS256, .ES256, .HS256] {
        let s = alg == .RS256 ? rs : signed(alg)
        Benchmark("token verify \(alg.rawValue) (cache miss: decode, signature, claims)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try! TokenVerifier.verify(Substring(s.token), keys: s.keys, requirements: s.requirements, now: now))
            }
        }
    }

    let verified = try! TokenVerifier.verify(Substring(rs.token), keys: rs.keys, requirements: rs.requirements, now: now)
    let cache = VerifiedTokenCache(maxEntries: 10_000, maxBytes: 32 << 20)
    cache.insert(Substring(rs.token), entry: .init(token: verified, iss: issuer, issuerName: "bench", generation: 1,
                                                  expiresAt: now + 3630))
    Benchmark("token cache hit (RS256 token: lookup + claim checks)") { benchmark in
        for _ in benchmark.scaledIterations {
            if let e = cache.lookup(Substring(rs.token), now: now, isCurrent: { $0.generation == 1 }) {
                try! TokenVerifier.checkClaims(of: e.token, requirements: rs.requirements, now: now)
                blackHole(e)
            }
        }
    }

    // The whole decision for the load benchmark's request, token in the cache (the path
    // every repeated-token request takes between the parser and libcurl).
    let hsKey = SigningKey.hmac(Array("0123456789abcdef0123456789abcdef".utf8))
    let hsToken = try! hsKey.sign(claims: claims, algorithm: .HS256, keyID: nil)
    var hsParser = HTTPRequestParser()
    let hsRequest = requestBytes(token: hsToken)
    guard case .head(let head)? = hsRequest.withUnsafeBytes({ try! hsParser.parse($0) }).event else { fatalError() }
    let context = RequestContext(clientAddress: "127.0.0.1", now: now, makeRequestID: { "bench-1" })
    guard case .forward = RequestPipeline.decide(head, context: context, runtime: rt) else { fatalError("not forwarded") }
    Benchmark("RequestPipeline.decide (token cached, forward plan)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(RequestPipeline.decide(head, context: context, runtime: rt))
        }
    }

    Benchmark("refusal serialisation (401 invalid_token: head + JSON body)") { benchmark in
        for _ in benchmark.scaledIterations {
            let r = Refusal(.invalidToken(.signature))
            var fields = r.fields
            fields.append(HTTPField(name: "Content-Length", value: String(r.body.count)))
            fields.append(HTTPField(name: "Connection", value: "close"))
            blackHole(HTTPResponseHead(status: r.status, fields: fields).serialized())
            blackHole(r.body)
        }
    }
}
