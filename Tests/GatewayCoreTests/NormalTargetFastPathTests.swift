@testable import GatewayCore
import GatewayHTTP
import XCTest

/// The decision's shortcut for already-normal request-targets gives exactly what
/// `PathNormalizer.normalize` gives, and steps aside for every target it would change or refuse.
final class NormalTargetFastPathTests: XCTestCase {
    func testShortcutAgreesWithTheNormalizer() {
        let normal = ["/", "/orders", "/orders/", "/orders/42", "/a/b/c?x=1&y=2", "/?", "/a?", "/a?b?c",
                      "/x/.hidden", "/x/..hidden", "/x/a.", "/v1/items:batch", "/~user/@me/!$&'()*+,=",
                      "/a?q=%2F%00", "/a?q=/../"]
        for target in normal {
            let fast = RequestPipeline.alreadyNormalized(target)
            XCTAssertNotNil(fast, target)
            XCTAssertEqual(fast, try PathNormalizer.normalize(target), target)
        }
        let other = ["/a//b", "//", "/a/./b", "/a/../b", "/.", "/..", "/a/.", "/a/..", "/a/%41", "/a%2fb", "/a;b",
                     "/a\\b", "/a b", "/a#f", "/a?b#c", "/a?b c", "/é", "*", "http://h/a", "", "/a/.?x", "/a/..?x",
                     "/a//?x"]
        for target in other {
            XCTAssertNil(RequestPipeline.alreadyNormalized(target), target)
        }
    }
}
