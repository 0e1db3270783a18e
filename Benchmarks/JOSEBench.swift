// Release-build timing of token verification per algorithm and of a verified-token cache
// hit. Built by `make bench-jose` with `swiftc -O` over Sources/GatewayJOSE and
// the cache's sources as one module; prints one line per case. Not part of `make test`.
#if canImport(Glibc)
import Glibc
#endif

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` in batches for about `seconds`; returns operations per second.
func measure(seconds: Double = 1.0, _ body: () -> Void) -> Double {
    for _ in 0..<20 { body() }  // warm-up
    var count = 0
    let start = monotonic()
    var now = start
    repeat {
        for _ in 0..<20 { body() }
        count += 20
        now = monotonic()
    } while now - start < seconds
    return Double(count) / (now - start)
}

func report(_ name: String, _ opsPerSecond: Double) {
    let micros = 1e6 / opsPerSecond
    let ops = String(Int(opsPerSecond.rounded()))
    let pad = String(repeating: " ", count: max(0, 22 - name.count))
    print("\(name)\(pad)\(String(repeating: " ", count: max(0, 10 - ops.count)))\(ops)/s  \(formatMicros(micros)) µs/op")
}

func formatMicros(_ m: Double) -> String {
    let tenths = Int((m * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

@main
struct JOSEBench {
    static func main() throws {
        let seconds = Double(CommandLine.arguments.dropFirst().first ?? "1") ?? 1
        let now = 1_800_000_000.0
        let claims = JSONValue.object([
            ("iss", .string("https://issuer.test.example/")), ("aud", .string("orders-api")),
            ("sub", .string("user-42")), ("scope", .string("read:orders write:orders")),
            ("iat", .number(now - 60)), ("exp", .number(now + 3600)),
        ])
        print("case                       ops/s      time")
        var rs256Token = ""
        var rs256Keys = KeySet(keys: [])
        for alg in JWSAlgorithm.allCases {
            let key = try SigningKey.generate(for: alg)
            let token = try key.sign(claims: claims, algorithm: alg, keyID: "k1")
            let keys = KeySet(keys: [key.verificationKey(keyID: "k1")])
            let req = TokenRequirements(issuer: "https://issuer.test.example/", audiences: ["orders-api"],
                                        algorithms: [alg])
            precondition((try? TokenVerifier.verify(Substring(token), keys: keys, requirements: req, now: now)) != nil)
            if alg == .RS256 { rs256Token = token; rs256Keys = keys }
            report("verify \(alg.rawValue)", measure(seconds: seconds) {
                _ = try? TokenVerifier.verify(Substring(token), keys: keys, requirements: req, now: now)
            })
        }
        // A cache hit: lookup by the whole token, then the claim checks that run on every hit.
        let req = TokenRequirements(issuer: "https://issuer.test.example/", audiences: ["orders-api"], algorithms: [.RS256])
        let verified = try TokenVerifier.verify(Substring(rs256Token), keys: rs256Keys, requirements: req, now: now)
        let cache = VerifiedTokenCache(maxEntries: 10_000, maxBytes: 32 << 20)
        cache.insert(Substring(rs256Token), entry: VerifiedTokenCache.Entry(
            token: verified, iss: "https://issuer.test.example/", issuerName: "bench", generation: 1, expiresAt: now + 3630))
        report("cache hit (RS256 token)", measure(seconds: seconds) {
            if let e = cache.lookup(Substring(rs256Token), now: now, isCurrent: { $0.generation == 1 }) {
                _ = try? TokenVerifier.checkClaims(of: e.token, requirements: req, now: now)
            }
        })
        print("cache statistics: \(cache.statistics)")
    }
}
