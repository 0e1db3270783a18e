import XCTest
final class PlaceholderJOSETests: XCTestCase {
    func testPlaceholder() { XCTAssertEqual(1 + 1, 2) }
}
