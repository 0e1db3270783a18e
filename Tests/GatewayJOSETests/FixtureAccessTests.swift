import XCTest
import GatewayTestSupport

/// The shared fixture accessors fail loudly: a missing file is an error naming it, never
/// empty data that a test would then parse (or not check at all).
final class FixtureAccessTests: XCTestCase {
    func testMissingFileThrowsNamingIt() {
        XCTAssertThrowsError(try Fixtures.bytes("vectors/no-such-file.json")) { error in
            XCTAssertEqual(error as? Fixtures.FixtureError, .missing("vectors/no-such-file.json"))
            XCTAssertTrue("\(error)".contains("Tests/Fixtures/vectors/no-such-file.json"))
        }
        XCTAssertThrowsError(try Fixtures.text("vectors/keys/none.pem")) { error in
            XCTAssertEqual(error as? Fixtures.FixtureError, .missing("vectors/keys/none.pem"))
        }
    }

    func testPresentFilesRead() throws {
        XCTAssertTrue(try Fixtures.text("vectors/keys/rsa-1.pem").hasPrefix("-----BEGIN "))
        XCTAssertEqual(try Fixtures.bytes("vectors/jwks.json").first, UInt8(ascii: "{"))
        XCTAssertFalse(try Fixtures.tokenVectors().tokens.isEmpty)
        XCTAssertEqual(try Fixtures.hmacSecret().count, 64)
    }
}
