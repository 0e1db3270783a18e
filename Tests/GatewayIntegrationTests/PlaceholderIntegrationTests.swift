import XCTest
final class PlaceholderIntegrationTests: XCTestCase {
    func testPlaceholder() { XCTAssertEqual(1 + 1, 2) }
}
