@testable import GatewayUpstream
import XCTest

/// The request header list libcurl reads (CURLOPT_HTTPHEADER), built in owned memory.
final class CurlHeaderListTests: XCTestCase {
    /// The list's lines as libcurl walks them (node to node, NUL-terminated).
    private func lines(_ list: borrowing CurlHeaderList) -> [String] {
        var result: [String] = []
        var node = list.list
        while let n = node {
            result.append(String(cString: n.pointee.data))
            node = n.pointee.next
        }
        return result
    }

    func testLinesAreLinkedInOrderAndDiscardedLinesLeaveNoTrace() {
        var list = CurlHeaderList()
        XCTAssertNil(list.list)
        list.begin(bytes: 64, lines: 3)
        list.append("A: 1")
        list.endLine()
        list.append("Dropped: x")
        list.discardLine()
        let value = Array("two".utf8)
        list.append("B")
        list.append(0x3A)
        list.append(0x20)
        value.withUnsafeBytes { list.append($0) }
        list.endLine()
        list.append("C;")
        list.endLine()
        XCTAssertEqual(list.lineCount, 3)
        XCTAssertEqual(lines(list), ["A: 1", "B: two", "C;"])
    }

    func testRebuildingReusesAndGrowsTheBuffers() {
        var list = CurlHeaderList()
        for round in 0..<3 {
            // Past the initial sizes on the second round: more lines and bytes than before.
            let count = 5 + round * 40
            let line = String(repeating: "v", count: 10 + round * 100)
            list.begin(bytes: count * (line.utf8.count + 6), lines: count)
            for i in 0..<count {
                Array("X\(i % 10): \(line)".utf8).withUnsafeBytes { list.append($0) }
                list.endLine()
            }
            XCTAssertEqual(lines(list), (0..<count).map { "X\($0 % 10): \(line)" })
        }
        list.begin(bytes: 0, lines: 0)
        XCTAssertNil(list.list)
    }
}
