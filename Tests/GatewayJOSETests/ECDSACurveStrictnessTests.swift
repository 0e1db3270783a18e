import XCTest
import GatewayJOSE
import GatewayTestSupport

/// ECDSA signature strictness on every curve: exactly 2 × curve size bytes, r and
/// s in [1, n-1], DER refused — P-256 is covered in StrictnessTests, these add P-384/P-521.
final class ECDSACurveStrictnessTests: XCTestCase {
    /// Group orders (SEC 2 §2.5.1, §2.6.1), big-endian.
    static let p384Order = hex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973")
    static let p521Order = hex("01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409")

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    func check(_ alg: JWSAlgorithm, size: Int, order: [UInt8]) throws {
        XCTAssertEqual(order.count, size)
        let key = try SigningKey.generate(for: alg)
        let keys = KeySet(keys: [key.verificationKey(keyID: "k")])
        let requirements = Fixtures.requirements([alg])
        let good = try key.sign(claims: .object([("iss", .string(Fixtures.issuer)), ("aud", .string(Fixtures.audience)),
                                                  ("exp", .number(4_102_444_800))]), algorithm: alg, keyID: "k")
        let parts = good.split(separator: ".")
        let raw = try XCTUnwrap(Base64URL.decode(parts[2]))
        XCTAssertEqual(raw.count, 2 * size)
        let r = Array(raw[0..<size]), s = Array(raw[size...])
        func verify(_ signature: [UInt8]) -> TokenError? {
            let t = parts[0] + "." + parts[1] + "." + Base64URL.encode(signature)
            return tokenError { _ = try TokenVerifier.verify(Substring(t), keys: keys, requirements: requirements, now: Fixtures.now) }
        }
        XCTAssertNil(verify(raw), "\(alg)")
        let zero = [UInt8](repeating: 0, count: size)
        let ones = [UInt8](repeating: 0xFF, count: size)
        for bad in [zero + s, r + zero, order + s, r + order, ones + s, r + ones, Array(raw.dropLast()), raw + [0],
                    [0] + raw, [], der(r, s)] {
            XCTAssertEqual(verify(bad), .signature, "\(alg) \(bad.count) bytes")
        }
    }

    /// ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` (the form JWS forbids, RFC 7518 §3.4).
    func der(_ r: [UInt8], _ s: [UInt8]) -> [UInt8] {
        func integer(_ v: [UInt8]) -> [UInt8] {
            var b = Array(v.drop { $0 == 0 })
            if let f = b.first, f & 0x80 != 0 { b.insert(0, at: 0) }
            return [0x02] + length(b.count) + b
        }
        func length(_ n: Int) -> [UInt8] { n < 128 ? [UInt8(n)] : [0x81, UInt8(n)] }
        let body = integer(r) + integer(s)
        return [0x30] + length(body.count) + body
    }

    func testES384SignatureStrictness() throws { try check(.ES384, size: 48, order: Self.p384Order) }
    func testES512SignatureStrictness() throws { try check(.ES512, size: 66, order: Self.p521Order) }
}
