import XCTest
import GatewayHTTP

/// Fields as the parser hands them out (byte ranges of the head) behave like fields made
/// from Strings: same names, values, equality, matching and editing.
final class HTTPFieldTests: XCTestCase {
    private func parsedFields(_ lines: String) throws -> [HTTPField] {
        try XCTUnwrap(head("GET / HTTP/1.1\r\nHost: a\r\n\(lines)\r\n")).fields
    }

    func testParsedFieldsReadAndCompareLikeStringFields() throws {
        let fields = try parsedFields("X-Name: Zoë  \r\nAuthorization: Bearer abc.def.ghi\r\nx_under: 1\r\n")
        XCTAssertEqual(fields, [
            HTTPField(name: "Host", value: "a"),
            HTTPField(name: "X-Name", value: "Zoë"),
            HTTPField(name: "Authorization", value: "Bearer abc.def.ghi"),
            HTTPField(name: "x_under", value: "1"),
        ])
        XCTAssertEqual(fields[1].name, "X-Name")
        XCTAssertEqual(fields[1].value, "Zoë")
        XCTAssertEqual(fields[1].valueByteCount, "Zoë".utf8.count)
        XCTAssertEqual(fields[2].withValueBytes { Array($0) }, Array("Bearer abc.def.ghi".utf8))
        XCTAssertEqual(fields[2].withNameBytes { Array($0) }, Array("Authorization".utf8))
        XCTAssertNotEqual(fields[1], HTTPField(name: "x-name", value: "Zoë"), "equality is byte equality")
        XCTAssertEqual(fields[0].description, #"HTTPField(name: "Host", value: "a")"#)
    }

    func testNameMatchingIsASCIICaseInsensitive() throws {
        let fields = try parsedFields("X-Auth_Subject: s\r\n")
        for f in [fields[1], HTTPField(name: "X-Auth_Subject", value: "s")] {
            XCTAssertTrue(f.hasName("x-auth_subject"))
            XCTAssertTrue(f.hasName("X-AUTH_SUBJECT"))
            XCTAssertFalse(f.hasName("x-auth-subject"), "`_` is not `-` for plain name matching")
            XCTAssertFalse(f.hasName("x-auth_subjec"))
            XCTAssertTrue(f.hasComparableName("x-auth-subject"))
            XCTAssertTrue(f.hasComparableName("X_AUTH_SUBJECT"))
            XCTAssertFalse(f.hasComparableName("x-auth-subjects"))
        }
        // Letters differ by 0x20 but `@` and `` ` `` are not letters.
        XCTAssertFalse(HTTPField(name: "a@", value: "").hasName("a`"))
        XCTAssertFalse(HTTPField(name: "[", value: "").hasName("{"))
    }

    func testSettingANameOrValueKeepsTheOtherPart() throws {
        var f = try parsedFields("X-A: one\r\n")[1]
        f.value = "two"
        XCTAssertEqual(f, HTTPField(name: "X-A", value: "two"))
        f.name = "X-B"
        XCTAssertEqual(f, HTTPField(name: "X-B", value: "two"))
    }

    func testHeadLookups() throws {
        let h = try XCTUnwrap(head("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nAccept: */*\r\nx-forwarded-for: 2.2.2.2\r\n\r\n"))
        XCTAssertEqual(h.values("X-FORWARDED-FOR"), ["1.1.1.1", "2.2.2.2"])
        XCTAssertEqual(h.values("x-forwarded"), [])
        XCTAssertEqual(h.firstValue("host"), "a")
        XCTAssertNil(h.firstValue("cookie"))
        XCTAssertEqual(h.firstIndex(of: "accept"), 2)
        XCTAssertEqual(h.count(of: "x-forwarded-for"), 2)
        XCTAssertEqual(h.count(of: "x-forwarded_for"), 0)
    }

    func testByteListElements() {
        var seen: [String] = []
        Array(" a, ,b ,\tc\t,,d".utf8).withUnsafeBytes { raw in
            HTTPSyntax.forEachListElement(raw) { seen.append(String(decoding: $0, as: UTF8.self)) }
        }
        XCTAssertEqual(seen, ["a", "b", "c", "d"])
    }
}
