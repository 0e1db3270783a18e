import XCTest
final class PlaceholderUpstreamTests: XCTestCase {
    func testPlaceholder() { XCTAssertEqual(1 + 1, 2) }
}
