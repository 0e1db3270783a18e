import Foundation
import GatewayCore
import XCTest

/// What the access log's `path` shows for targets that carry credentials (docs/operations.md).
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
            ("/p?x=1#access_token=opaque", "/p?x=1#access_token=REDACTED"),
            ("/p#access_token=opaque&state=s", "/p#access_token=REDACTED&state=s"),
            ("/p?access_token[]=opaque", "/p?access_token[]=REDACTED"),
            ("/p?token%20=opaque&+token=o2", "/p?token%20=REDACTED&+token=REDACTED"),
            ("/p?%61ccess_token=opaque", "/p?%61ccess_token=REDACTED"),
        ]
        for (target, logged) in cases {
            XCTAssertEqual(LogRedaction.redact(target), logged, target)
        }
    }

    func testTokenShapedTextIsRedactedWhereverItIs() {
        XCTAssertEqual(LogRedaction.redact("/public/\(jwt)/x"), "/public/REDACTED/x")
        XCTAssertEqual(LogRedaction.redact("/p?credential=\(jwt)&b=1"), "/p?credential=REDACTED&b=1")
        XCTAssertEqual(LogRedaction.redact("/p?x=Bearer%20\(jwt)"), "/p?x=Bearer%20REDACTED")
        // Percent-encoded, in part or in whole: every query parser decodes it back.
        let dotsEncoded = jwt.replacingOccurrences(of: ".", with: "%2E")
        XCTAssertEqual(LogRedaction.redact("/p?x=\(dotsEncoded)&y=1"), "/p?x=REDACTED&y=1")
        XCTAssertEqual(LogRedaction.redact("/p/\(dotsEncoded)"), "/p/REDACTED")
        let firstEncoded = "%65" + jwt.dropFirst().replacingOccurrences(of: ".e", with: ".%65")
        XCTAssertEqual(LogRedaction.redact("/p?x=\(firstEncoded)"), "/p?x=REDACTED")
        // A `%` and a hex digit before the token decode together with its `e` (`%ae` is one
        // byte), hiding `eyJ` from the decoded text; the raw target still holds the token.
        XCTAssertEqual(LogRedaction.redact("/p?x=%a\(jwt)&y=1"), "/p?x=REDACTED&y=1")
        XCTAssertEqual(LogRedaction.redact("/p/%2\(jwt)"), "/p/REDACTED")
        XCTAssertEqual(LogRedaction.redact("/p?x=%A\(dotsEncoded)"), "/p?x=REDACTED")
        // A token used as a method (refused, but logged).
        XCTAssertEqual(LogRedaction.redact(jwt), "REDACTED")
    }

    func testOrdinaryTargetsAreUnchanged() {
        for target in ["/", "/orders/42", "/orders?tokenizer=1&x=token", "/p?x=eyJ", "/keyJumps/a.b", "*", "/a;b=c",
                       "/p%20q?a=%41#frag", "GET", "/Jobs/1"] {
            XCTAssertEqual(LogRedaction.redact(target), target)
        }
    }
}
