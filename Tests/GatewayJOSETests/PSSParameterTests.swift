import XCTest
@testable import GatewayJOSE
import GatewayTestSupport

/// RFC 7518 §3.5: PS* uses MGF1 with the same hash and a salt as long as the hash; a
/// signature made with another salt length is refused (through the prepared contexts).
final class PSSParameterTests: XCTestCase {
    func testOtherSaltLengthsAreRefused() throws {
        let key = try SigningKey.generate(for: .PS256)
        guard case .rsa(let evp) = key.material else { return XCTFail("not RSA") }
        let keys = KeySet(keys: [key.verificationKey(keyID: "k1")])
        let r = Fixtures.requirements([.PS256, .PS384])
        let header = Base64URL.encode(Array(#"{"alg":"PS256","kid":"k1"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"iss":"https://issuer.test.example/","aud":"orders-api","exp":4102444800}"#.utf8))
        let input = Array((header + "." + payload).utf8)
        func token(salt: Int32) throws -> Substring {
            let sig = try EVPSignature.sign(key: evp, algorithm: .PS256, message: input, pssSaltLength: salt)
            return Substring(header + "." + payload + "." + Base64URL.encode(sig))
        }
        XCTAssertNoThrow(try TokenVerifier.verify(try token(salt: 32), keys: keys, requirements: r, now: 1_800_000_000))
        for salt: Int32 in [0, 20, 31, 33, 64, 222] {
            XCTAssertEqual(tokenError { _ = try TokenVerifier.verify(try token(salt: salt), keys: keys, requirements: r, now: 1_800_000_000) },
                           .signature, "salt \(salt)")
        }
        // The same signature under PS384's header/parameters is refused too.
        let ps384Header = Base64URL.encode(Array(#"{"alg":"PS384","kid":"k1"}"#.utf8))
        let sig = try EVPSignature.sign(key: evp, algorithm: .PS256, message: Array((ps384Header + "." + payload).utf8))
        XCTAssertEqual(tokenError {
            _ = try TokenVerifier.verify(Substring(ps384Header + "." + payload + "." + Base64URL.encode(sig)), keys: keys, requirements: r, now: 1_800_000_000)
        }, .signature)
    }
}
