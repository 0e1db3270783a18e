// Release-build timing of the revocation check (docs/revocation.md): one lookup of a
// verified token in lists of 100,000 and 1,000,000 entries (not listed, listed by jti,
// listed by subject), and the parse of a 100,000-entry document. Built by
// `make bench-revocation` with `swiftc -O` over Sources/GatewayJOSE and the revocation list
// sources as one module. Not part of `make test`.
#if canImport(Glibc)
import Glibc
#endif

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

func hex(_ i: Int) -> String {
    // 36 characters, like a UUID jti.
    let s = String(i, radix: 16)
    return String(repeating: "0", count: 36 - s.count) + s
}

@main
struct RevocationBench {
    static func main() {
        let iss = "https://issuer.bench.local"
        for n in [100_000, 1_000_000] {
            var ids: [String] = []
            ids.reserveCapacity(n / 2)
            for i in 0..<(n / 2) { ids.append(hex(i)) }
            var subs: [String: Double] = [:]
            for i in 0..<(n / 2) { subs["user-\(i)"] = 2_000_000_000 }
            let list = RevocationList(tokenIDs: [iss: ids], subjectCutOffs: [iss: subs])
            func token(jti: String, sub: String) -> VerifiedToken {
                VerifiedToken(header: .object([("alg", .string("RS256"))]), claims: .object([
                    ("iss", .string(iss)), ("sub", .string(sub)), ("aud", .string("bench-api")),
                    ("iat", .number(JSONNumber(1_900_000_000))), ("exp", .number(JSONNumber(1_900_003_600))), ("jti", .string(jti)),
                    ("scope", .string("read:users")),
                ]), algorithm: .RS256)
            }
            let clean = token(jti: "not-listed-0000-0000-0000-000000000000", sub: "alice")
            let byJTI = token(jti: hex(n / 4), sub: "alice")
            let bySubject = token(jti: "not-listed-0000-0000-0000-000000000000", sub: "user-\(n / 4)")
            precondition(!list.isRevoked(clean, iss: iss) && list.isRevoked(byJTI, iss: iss) && list.isRevoked(bySubject, iss: iss))
            print("\(n) entries: not listed \(Int(nanoseconds { list.isRevoked(clean, iss: iss) })) ns, "
                  + "listed by jti \(Int(nanoseconds { list.isRevoked(byJTI, iss: iss) })) ns, "
                  + "listed by subject \(Int(nanoseconds { list.isRevoked(bySubject, iss: iss) })) ns")
        }
        var doc = "{\"tokens\":["
        for i in 0..<100_000 {
            if i > 0 { doc += "," }
            doc += "{\"iss\":\"\(iss)\",\"jti\":\"\(hex(i))\",\"exp\":4102444800}"
        }
        doc += "]}"
        let bytes = Array(doc.utf8)
        let start = monotonic()
        let parsed = try! RevocationDocument.parse(bytes, now: 1_900_000_000, maxEntries: 1_000_000)
        let ms = Int((monotonic() - start) * 1000)
        print("parse of a 100,000-entry document (\(bytes.count / 1024) KiB): \(ms) ms, \(parsed.count) entries")
    }
}
