import XCTest
import GatewayJOSE

/// The one JSON string escaper (`JSONWriter.appendString`), used by logs, refusal bodies
/// and minted tokens: RFC 8259 §7, strict about controls.
final class JSONStringEscapingTests: XCTestCase {
    func testQuotesBackslashAndNamedControls() {
        XCTAssertEqual(JSONWriter.quotedString("a\"b\\c"), #""a\"b\\c""#)
        XCTAssertEqual(JSONWriter.quotedString("l1\nl2\rx\ty"), #""l1\nl2\rx\ty""#)
        XCTAssertEqual(JSONWriter.quotedString(""), #""""#)
    }

    func testOtherControlsAndDELAsUnicodeEscapes() {
        XCTAssertEqual(JSONWriter.quotedString("\u{00}\u{01}\u{1B}\u{1F}"), #""\u0000\u0001\u001b\u001f""#)
        XCTAssertEqual(JSONWriter.quotedString("a\u{7F}b"), #""a\u007fb""#)
        // Space and the first printable byte after the controls are as is.
        XCTAssertEqual(JSONWriter.quotedString(" ~"), #"" ~""#)
    }

    func testLineAndParagraphSeparatorsEscapedOtherUnicodeKept() {
        XCTAssertEqual(JSONWriter.quotedString("a\u{2028}b\u{2029}c"), #""a\u2028b\u2029c""#)
        // Neighbours sharing the E2 80 prefix, and other non-ASCII text, stay UTF-8.
        XCTAssertEqual(JSONWriter.quotedString("\u{2027}\u{202A}€é😀"), "\"\u{2027}\u{202A}€é😀\"")
        XCTAssertEqual(JSONWriter.quotedString("\u{2028}"), #""\u2028""#)
        XCTAssertEqual(JSONWriter.quotedString("x\u{E2}"), "\"x\u{E2}\"")
    }

    func testEscapedTextParsesBackToTheOriginal() throws {
        let original = "q\"\\\n\r\t\u{0}\u{7F}\u{2028}\u{2029}€ end"
        var bytes = [UInt8]()
        JSONWriter.appendString(original, to: &bytes)
        XCTAssertEqual(try JSONReader.parse(bytes), .string(original))
        XCTAssertFalse(bytes.contains(0x7F))
        XCTAssertFalse(bytes.contains { $0 < 0x20 })
    }

    func testSerializeUsesTheSameEscaping() {
        XCTAssertEqual(JSONWriter.serialize(.object([("k\u{7F}", .string("v\u{2028}"))])), #"{"k\u007f":"v\u2028"}"#)
    }
}
