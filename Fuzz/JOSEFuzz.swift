// libFuzzer target for the token parser and verifier (issue 3). Built by `make fuzz-jose`
// with `swiftc -sanitize=fuzzer,address` over Sources/GatewayJOSE plus this file, as one
// module: no crash, hang or memory error is acceptable for any input.
#if canImport(Glibc)
import Glibc
#endif

/// The fixture JWK Set (every key type) and an HMAC key, loaded once.
private let fuzzKeys: KeySet = {
    let path = String(#filePath.dropLast("Fuzz/JOSEFuzz.swift".count)) + "Tests/Fixtures/vectors/jwks.json"
    var bytes: [UInt8] = []
    if let f = fopen(path, "rb") {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            bytes.append(contentsOf: chunk[0..<n])
            if n < chunk.count { break }
        }
        fclose(f)
    }
    var keys = (try? KeySet.jwkSet(json: bytes))?.keys ?? []
    if let hmac = try? KeySet.hmacSecret([UInt8](repeating: 7, count: 64), keyID: nil, algorithms: [.HS256, .HS512]) {
        keys += hmac.keys
    }
    precondition(keys.count >= 6, "fixture JWK Set not found at \(path)")
    return KeySet(keys: keys)
}()

private let fuzzRequirements = TokenRequirements(
    issuer: "https://issuer.test.example/", audiences: ["orders-api"], algorithms: Set(JWSAlgorithm.allCases),
    clockSkew: 30, maxTokenLifetime: 86_400 * 365 * 100, requireExp: false)

/// One input: as a compact token (verify, unverified `iss`, JWS parse); as a JWK Set, a
/// JSON document (every number checked for exactness) and a number literal too.
@_cdecl("LLVMFuzzerTestOneInput")
public func joseFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let token = Substring(String(decoding: bytes, as: UTF8.self))
    _ = try? TokenVerifier.verify(token, keys: fuzzKeys, requirements: fuzzRequirements, now: 1_800_000_000)
    _ = try? TokenVerifier.unverifiedIssuer(token)
    _ = try? JWSCompact.parse(token)
    if bytes.first == UInt8(ascii: "{") {
        _ = try? KeySet.jwkSet(json: bytes)
    }
    if let value = try? JSONReader.parse(bytes) { checkNumbers(value) }
    // The input as one number literal: the same verdict as the reader's, and exact.
    if let n = JSONNumber(String(decoding: bytes, as: UTF8.self)) {
        checkNumber(n)
        if case .number(let m)? = try? JSONReader.parse(bytes) { precondition(m == n && m.text == n.text) }
    }
    return 0
}

/// Every number in `value` keeps its text and its value through a write and a re-read.
private func checkNumbers(_ value: JSONValue) {
    switch value {
    case .number(let n): checkNumber(n)
    case .array(let items): items.forEach(checkNumbers)
    case .object(let members): members.forEach { checkNumbers($0.1) }
    default: break
    }
    // Writing and reading back gives an equal document (numbers by exact value).
    guard let again = try? JSONReader.parse(Array(JSONWriter.serialize(value).utf8)) else {
        preconditionFailure("written JSON not readable")
    }
    precondition(again == value, "number changed through write and read")
}

/// Exact-value invariants of one number: literal round trip, equality and hashing agree
/// for forms with the same value, and differ from the next integer.
private func checkNumber(_ n: JSONNumber) {
    guard let same = JSONNumber(n.text) else { preconditionFailure("literal not re-readable: \(n.text)") }
    precondition(same == n && same.hashValue == n.hashValue && same.text == n.text)
    _ = n.doubleValue
    if n.isIntegerLiteral {
        // `N.0` and `Ne0` are the same value; `N` with a digit appended is not.
        if let fraction = JSONNumber(n.text + ".0"), let exponent = JSONNumber(n.text + "e0") {
            precondition(fraction == n && exponent == n && fraction.hashValue == n.hashValue)
        }
        if n.text != "0" && n.text != "-0", let bigger = JSONNumber(n.text + "1") { precondition(bigger != n) }
    }
}
