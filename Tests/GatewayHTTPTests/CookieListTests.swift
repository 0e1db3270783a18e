import GatewayHTTP
import XCTest

/// The request `Cookie` field (RFC 6265 §4.2, §5.4): pairs, quoting, whitespace, bounds,
/// duplicates, and removing one cookie while keeping the others byte for byte.
final class CookieListTests: XCTestCase {
    func cookies(_ values: String..., limits: CookieLimits = CookieLimits()) throws -> CookieList {
        try CookieList.parse(values.map { HTTPField(name: "Cookie", value: $0) }, limits: limits)
    }

    func names(_ list: CookieList) -> [String] { list.pairs.map { String($0.name) } }
    func values(_ list: CookieList) -> [String] { list.pairs.map { String($0.value) } }

    func testRFC6265Examples() throws {
        // RFC 6265 §3.1: what a user agent sends back.
        let one = try cookies("SID=31d4d96e407aad42")
        XCTAssertEqual(names(one), ["SID"])
        XCTAssertEqual(values(one), ["31d4d96e407aad42"])
        XCTAssertEqual(one.lookup("SID"), .found(one.pairs[0]))
        let two = try cookies("SID=31d4d96e407aad42; lang=en-US")
        XCTAssertEqual(names(two), ["SID", "lang"])
        XCTAssertEqual(values(two), ["31d4d96e407aad42", "en-US"])
        XCTAssertTrue(two.pairs.allSatisfy(\.isWellFormed))
    }

    func testQuotedValueIsReadWithoutQuotes() throws {
        let list = try cookies(#"a="abc.def"; b="""#)
        XCTAssertEqual(values(list), ["abc.def", ""])
        guard case .found(let a) = list.lookup("a") else { return XCTFail("a not found") }
        XCTAssertEqual(a.value, "abc.def")
        XCTAssertTrue(a.isWellFormed)
        XCTAssertEqual(list.lookup("b"), .found(list.pairs[1]))
    }

    func testUnbalancedOrInnerQuotesAreMalformed() throws {
        XCTAssertEqual(try cookies(#"a="abc"#).lookup("a"), .malformed)
        XCTAssertEqual(try cookies(#"a=abc""#).lookup("a"), .malformed)
        XCTAssertEqual(try cookies(#"a="a"b""#).lookup("a"), .malformed)
        XCTAssertEqual(try cookies(#"a=""#).lookup("a"), .malformed)
    }

    func testValuesOutsideCookieOctetsAreMalformedButOthersStillParse() throws {
        let list = try cookies(#"x=a b; a=1,2; c=back\slash; tok=ok"#)
        XCTAssertEqual(names(list), ["x", "a", "c", "tok"])
        XCTAssertEqual(list.lookup("x"), .malformed)
        XCTAssertEqual(list.lookup("a"), .malformed)
        XCTAssertEqual(list.lookup("c"), .malformed)
        guard case .found(let tok) = list.lookup("tok") else { return XCTFail("tok not found") }
        XCTAssertEqual(tok.value, "ok")
    }

    func testWhitespaceAfterSemicolonIsTolerated() throws {
        // `a=1;b=2` (curl -b) and extra spaces or a tab after `;` are common and harmless.
        for text in ["a=1;b=2", "a=1;  b=2", "a=1;\tb=2", "a=1 ; b=2"] {
            let list = try cookies(text)
            XCTAssertEqual(names(list), ["a", "b"], text)
            guard case .found(let b) = list.lookup("b") else { return XCTFail("b not found in \(text)") }
            XCTAssertEqual(b.value, "2", text)
        }
    }

    func testWhitespaceAroundEqualsMakesThePairMalformed() throws {
        // Other parsers trim it; the name still counts (for duplicates), the value is untrusted.
        XCTAssertEqual(try cookies("a =1").lookup("a"), .malformed)
        XCTAssertEqual(try cookies("a= 1").lookup("a"), .malformed)
        XCTAssertEqual(try cookies("a=1; a =2").lookup("a"), .duplicated)
    }

    func testEmptyPairsAndPairsWithoutEqualsAreSkippedOrNameless() throws {
        let list = try cookies("a=1;; ;b=2; flag;")
        XCTAssertEqual(names(list), ["a", "b", ""])
        XCTAssertEqual(list.lookup("flag"), .absent)
        XCTAssertEqual(list.lookup(""), .malformed)
    }

    func testEmptyValueIsFound() throws {
        let list = try cookies("a=; b=2")
        guard case .found(let a) = list.lookup("a") else { return XCTFail("a not found") }
        XCTAssertEqual(a.value, "")
    }

    func testNamesAreCaseSensitive() throws {
        let list = try cookies("Token=upper; token=lower")
        guard case .found(let lower) = list.lookup("token"), case .found(let upper) = list.lookup("Token") else {
            return XCTFail("both names must be found on their own")
        }
        XCTAssertEqual(lower.value, "lower")
        XCTAssertEqual(upper.value, "upper")
        XCTAssertEqual(list.lookup("TOKEN"), .absent)
    }

    func testDuplicateNameInOneFieldAndAcrossFields() throws {
        XCTAssertEqual(try cookies("t=1; x=2; t=1").lookup("t"), .duplicated)
        XCTAssertEqual(try cookies("t=1; x=2", "y=3; t=4").lookup("t"), .duplicated)
        XCTAssertEqual(try cookies("t=1; x=2", "y=3; t=4").lookup("x"), .found(try cookies("t=1; x=2", "y=3; t=4").pairs[1]))
    }

    func testSeveralFieldsReadAsOneListInOrder() throws {
        let fields = [HTTPField(name: "Host", value: "h"), HTTPField(name: "cookie", value: "a=1"),
                      HTTPField(name: "X", value: "y"), HTTPField(name: "COOKIE", value: "b=2; c=3")]
        let list = try CookieList.parse(fields)
        XCTAssertEqual(names(list), ["a", "b", "c"])
        XCTAssertEqual(list.pairs.map(\.fieldIndex), [1, 3, 3])
    }

    func testTooManyPairsIsAnError() throws {
        let limits = CookieLimits(maxPairs: 3, maxValueBytes: 100)
        XCTAssertNoThrow(try cookies("a=1; b=2; c=3", limits: limits))
        XCTAssertThrowsError(try cookies("a=1; b=2", "c=3; d=4", limits: limits)) {
            XCTAssertEqual($0 as? CookieParseError, .tooManyPairs)
        }
    }

    func testOverLongValueIsMalformedWhenLookedUp() throws {
        let limits = CookieLimits(maxPairs: 10, maxValueBytes: 8)
        let list = try cookies("t=12345678; u=123456789; q=\"12345678\"", limits: limits)
        XCTAssertEqual(list.lookup("t", limits: limits), .found(list.pairs[0]))
        XCTAssertEqual(list.lookup("u", limits: limits), .malformed)
        XCTAssertEqual(list.lookup("q", limits: limits), .found(list.pairs[2]))
        // The default allows an 8 KiB token and no more.
        let big = String(repeating: "a", count: 8192)
        XCTAssertNotEqual(try cookies("t=" + big).lookup("t"), .malformed)
        XCTAssertEqual(try cookies("t=" + big + "a").lookup("t"), .malformed)
    }

    func removing(_ name: String, _ values: [String]) throws -> [String] {
        let fields = [HTTPField(name: "Host", value: "h")] + values.map { HTTPField(name: "Cookie", value: $0) }
        let list = try CookieList.parse(fields)
        guard case .found(let pair) = list.lookup(name) else {
            XCTFail("\(name) not found")
            return []
        }
        let out = list.removing(pair, from: fields)
        XCTAssertEqual(out.first, HTTPField(name: "Host", value: "h"))
        return out.dropFirst().map(\.value)
    }

    func testRemovingOneCookieKeepsTheOthersByteForByte() throws {
        XCTAssertEqual(try removing("t", ["a=1; t=tok; b=2"]), ["a=1; b=2"])
        XCTAssertEqual(try removing("t", ["t=tok; a=1;b=\"q\""]), ["a=1;b=\"q\""])
        XCTAssertEqual(try removing("t", ["a=1;  x y; t=tok"]), ["a=1;  x y"])
        XCTAssertEqual(try removing("t", ["a=1;t=tok;b=2"]), ["a=1;b=2"])
        XCTAssertEqual(try removing("t", ["t=tok"]), [])
        XCTAssertEqual(try removing("t", ["a=1", "t=tok", "b=2"]), ["a=1", "b=2"])
        XCTAssertEqual(try removing("t", ["a=1", "b=2; t=\"tok\""]), ["a=1", "b=2"])
        XCTAssertEqual(try removing("T", ["t=lower; T=upper; x=1"]), ["t=lower; x=1"])
    }

    func testCookieOctets() {
        XCTAssertTrue(CookieList.isCookieOctet(UInt8(ascii: "!")))
        XCTAssertTrue(CookieList.isCookieOctet(UInt8(ascii: "=")))
        for b in [UInt8(ascii: " "), UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\\"), 0x7F, 0x1F, 0x80] {
            XCTAssertFalse(CookieList.isCookieOctet(b), "\(b)")
        }
    }
}
