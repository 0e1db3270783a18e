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

/// One input: as a compact token (verify, unverified `iss`, JWS parse); as a JWK Set and
/// JSON document too.
@_cdecl("LLVMFuzzerTestOneInput")
public func joseFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let token = Substring(String(decoding: bytes, as: UTF8.self))
    _ = try? TokenVerifier.verify(token, keys: fuzzKeys, requirements: fuzzRequirements, now: 1_800_000_000)
    _ = try? TokenVerifier.unverifiedIssuer(token)
    _ = try? JWSCompact.parse(token)
    if bytes.first == UInt8(ascii: "{") {
        _ = try? JSONReader.parse(bytes)
        _ = try? KeySet.jwkSet(json: bytes)
    }
    return 0
}
