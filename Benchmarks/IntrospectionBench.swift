// Release-build timing of what a request on a route with `introspect: true` adds when the
// answer is cached (docs/revocation.md "Introspection"): the cache key of the token (a
// 128-bit seeded hash of its bytes) and one probe of the issuer's answer cache, beside a
// verified-token cache hit for the same token. Built by `make bench-introspection` with
// `swiftc -O` over Sources/GatewayJOSE and the cache sources as one module. Not part of
// `make test`.
#if canImport(Glibc)
import Glibc
#endif

/// The pthread mutex of GatewayCore's IssuerKeyStore.swift (that file needs GatewayPolicy,
/// which this one-module build leaves out).
final class Mutex: @unchecked Sendable {
    private let m: UnsafeMutablePointer<pthread_mutex_t>
    init() {
        m = .allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        pthread_mutex_init(m, nil)
    }
    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }
    @inline(__always) func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Nanoseconds per call of `body`, over about `seconds`.
func nanoseconds(seconds: Double = 1.0, _ body: () -> Bool) -> Double {
    var sink = 0
    for _ in 0..<1000 { if body() { sink += 1 } }
    var count = 0
    let start = monotonic()
    var now = start
    repeat {
        for _ in 0..<1000 { if body() { sink += 1 } }
        count += 1000
        now = monotonic()
    } while now - start < seconds
    if sink == -1 { print(sink) }
    return (now - start) / Double(count) * 1e9
}

@main
struct IntrospectionBench {
    static func main() {
        // A token of the benchmark harness's size (RS256, 7 claims: about 700 bytes).
        let header = Base64URL.encode(Array(#"{"alg":"RS256","kid":"bench-1","typ":"JWT"}"#.utf8))
        let claims = Base64URL.encode(Array(#"{"iss":"https://issuer.bench.local","sub":"alice","aud":"bench-api","iat":1900000000,"exp":1900003600,"jti":"4f1c0a2e-5b7d-4c1e-9a3b-0d2e6f7a8b9c","scope":"read:users"}"#.utf8))
        let signature = Base64URL.encode([UInt8](repeating: 0xA5, count: 256))
        let text = header + "." + claims + "." + signature
        let token = Substring(text)
        let now = 1_900_000_100.0

        let verified = VerifiedTokenCache(maxEntries: 10_000, maxBytes: 32 << 20)
        let vt = VerifiedToken(header: .object([("alg", .string("RS256"))]), claims: .object([("sub", .string("alice"))]),
                               algorithm: .RS256)
        verified.insert(token, entry: VerifiedTokenCache.Entry(token: vt, iss: "https://issuer.bench.local",
                                                               issuerName: "bench", generation: 1, expiresAt: 1_900_003_600))
        let answers = IntrospectionCache()
        // A full cache, so the probe is not into an almost empty table.
        for i in 0..<(answers.maxEntries - 1) {
            let k = RevocationKey("other-token-\(i)")
            _ = answers.join(k) { _ in }
            answers.finish(k, answer: .active(exp: nil), until: now + 30, now: now)
        }
        let key = RevocationKey(token)
        _ = answers.join(key) { _ in }
        answers.finish(key, answer: .active(exp: nil), until: now + 30, now: now)
        precondition(verified.lookup(token, now: now, isCurrent: { _ in true }) != nil)
        precondition(answers.lookup(RevocationKey(token), now: now) == .active(exp: nil))

        for round in 1...3 {
            let hit = nanoseconds { verified.lookup(token, now: now, isCurrent: { $0.generation == 1 }) != nil }
            let keyOnly = nanoseconds { RevocationKey(token).high != 0 }
            let cached = nanoseconds { answers.lookup(RevocationKey(token), now: now) == .active(exp: nil) }
            print("round \(round), token \(token.utf8.count) bytes: verified-token cache hit \(Int(hit)) ns; "
                  + "introspection cached answer \(Int(cached)) ns (of which the token's key \(Int(keyOnly)) ns)")
        }
    }
}
