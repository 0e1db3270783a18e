import GatewayCore
import XCTest

/// What the access log's `path` shows for targets that carry credentials (SPEC §5).
final class LogRedactionTests: XCTestCase {
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"

    func testCredentialParametersAreRedactedByDecodedName() {
        let cases: [(String, String)] = [
            ("/p?token=abc&x=1", "/p?token=REDACTED&x=1"),
            ("/p?x=1&access_token=abc", "/p?x=1&access_token=REDACTED"),
            ("/p?ACCESS_TOKEN=abc", "/p?ACCESS_TOKEN=REDACTED"),
            ("/p?access%5Ftoken=abc&y=2", "/p?access%5Ftoken=REDACTED&y=2"),
            ("/p?access%5ftoken=abc", "/p?access%5ftoken=REDACTED"),
            ("/p?a=1;id_token=abc", "/p?a=1;id_token=REDACTED"),
            ("/p?refresh_token=abc&jwt=def", "/p?refresh_token=REDACTED&jwt=REDACTED"),
            ("/p;access_token=abc/rest", "/p;access_token=REDACTED/rest"),
            ("/p?token=a/b+c", "/p?token=REDACTED"),
        ]
        for (target, logged) in cases {
            XCTAssertEqual(LogRedaction.redact(target), logged, target)
        }
    }

    func testTokenShapedTextIsRedactedWhereverItIs() {
        XCTAssertEqual(LogRedaction.redact("/public/\(jwt)/x"), "/public/REDACTED/x")
        XCTAssertEqual(LogRedaction.redact("/p?credential=\(jwt)&b=1"), "/p?credential=REDACTED&b=1")
        XCTAssertEqual(LogRedaction.redact("/p?x=Bearer%20\(jwt)"), "/p?x=Bearer%20REDACTED")
    }

    func testOrdinaryTargetsAreUnchanged() {
        for target in ["/", "/orders/42", "/orders?tokenizer=1&x=token", "/p?x=eyJ", "/keyJumps/a.b", "*", "/a;b=c"] {
            XCTAssertEqual(LogRedaction.redact(target), target)
        }
    }
}
