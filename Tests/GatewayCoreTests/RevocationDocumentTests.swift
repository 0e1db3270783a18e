import GatewayCore
import XCTest

final class RevocationDocumentTests: XCTestCase {
    let now: Double = 1_800_000_000
    let iss = "https://auth.example.com/"

    func parse(_ text: String, maxEntries: Int = 100) throws(RevocationDocumentError) -> RevocationList {
        try RevocationDocument.parse(Array(text.utf8), now: now, maxEntries: maxEntries)
    }

    func assertRefused(_ text: String, maxEntries: Int = 100, _ expected: RevocationDocumentError,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try parse(text, maxEntries: maxEntries)
            XCTFail("accepted: \(text)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    func testReadsTokensAndSubjects() throws {
        let list = try parse("""
            {"tokens": [{"iss": "\(iss)", "jti": "4f1c0a", "exp": 1900000000}],
             "subjects": [{"iss": "\(iss)", "sub": "alice", "issued_before": 1799000000}]}
            """)
        XCTAssertEqual(list.count, 2)
        XCTAssertTrue(list.lists(iss: iss, jti: "4f1c0a"))
        XCTAssertFalse(list.lists(iss: iss, jti: "4f1c0b"))
        XCTAssertEqual(list.cutOff(iss: iss, sub: "alice"), 1_799_000_000)
    }

    func testEmptyDocumentsAreValid() throws {
        XCTAssertEqual(try parse("{}").count, 0)
        XCTAssertEqual(try parse(#"{"tokens": [], "subjects": []}"#).count, 0)
    }

    func testUnknownMembersAreIgnoredAtEveryLevel() throws {
        let list = try parse("""
            {"version": 3, "generated_at": "today",
             "tokens": [{"iss": "\(iss)", "jti": "a", "reason": "stolen", "extra": {"x": [1]}}],
             "subjects": [{"iss": "\(iss)", "sub": "bob", "issued_before": 5, "note": null}]}
            """)
        XCTAssertEqual(list.count, 2)
        XCTAssertTrue(list.lists(iss: iss, jti: "a"))
    }

    func testExpiredTokenEntriesAreDropped() throws {
        let list = try parse("""
            {"tokens": [{"iss": "\(iss)", "jti": "old", "exp": \(now - 1)},
                        {"iss": "\(iss)", "jti": "edge", "exp": \(now)},
                        {"iss": "\(iss)", "jti": "live", "exp": \(now + 1)},
                        {"iss": "\(iss)", "jti": "forever"}]}
            """)
        XCTAssertEqual(list.count, 2)
        XCTAssertTrue(list.lists(iss: iss, jti: "live"))
        XCTAssertTrue(list.lists(iss: iss, jti: "forever"))
        XCTAssertFalse(list.lists(iss: iss, jti: "old"))
        XCTAssertFalse(list.lists(iss: iss, jti: "edge"))
    }

    func testShapeErrorsRefuseTheWholeDocument() {
        assertRefused("[]", .shape("the root must be an object"))
        assertRefused(#"{"tokens": {}}"#, .shape("`tokens` must be an array"))
        assertRefused(#"{"subjects": null}"#, .shape("`subjects` must be an array"))
        assertRefused(#"{"tokens": ["x"]}"#, .shape("`tokens[0]` must be an object"))
        assertRefused(#"{"tokens": [{"iss": "i", "jti": "a"}, {"iss": "i"}]}"#, .shape("`tokens[1].jti` is required"))
        assertRefused(#"{"tokens": [{"iss": "", "jti": "a"}]}"#, .shape("`tokens[0].iss` must be a non-empty string"))
        assertRefused(#"{"tokens": [{"iss": "i", "jti": 7}]}"#, .shape("`tokens[0].jti` must be a non-empty string"))
        assertRefused(#"{"tokens": [{"iss": "i", "jti": "a", "exp": "soon"}]}"#,
                      .shape("`tokens[0].exp` must be a number (seconds since the epoch)"))
        assertRefused(#"{"subjects": [{"iss": "i", "sub": "s"}]}"#, .shape("`subjects[0].issued_before` is required"))
        assertRefused(#"{"subjects": [{"iss": "i", "sub": "s", "issued_before": "2026"}]}"#,
                      .shape("`subjects[0].issued_before` must be a number (seconds since the epoch)"))
        assertRefused(#"{"subjects": [{"sub": "s", "issued_before": 1}]}"#, .shape("`subjects[0].iss` is required"))
    }

    func testStrictJSONIsRequired() {
        for text in ["", "{", #"{"tokens": [],}"#, #"{"tokens": [], "tokens": []}"#, "{} x", "{'tokens': []}"] {
            XCTAssertThrowsError(try parse(text), text) { error in
                guard case .notJSON? = error as? RevocationDocumentError else { return XCTFail("\(error) for \(text)") }
            }
        }
    }

    func testMaxEntriesCountsEveryListedEntry() throws {
        let two = """
            {"tokens": [{"iss": "i", "jti": "a", "exp": 1}], "subjects": [{"iss": "i", "sub": "s", "issued_before": 1}]}
            """
        XCTAssertEqual(try parse(two, maxEntries: 2).count, 1)  // the expired token entry is dropped
        assertRefused(two, maxEntries: 1, .tooManyEntries(count: 2, max: 1))
    }

    func testDuplicateEntriesCollapse() throws {
        let list = try parse("""
            {"tokens": [{"iss": "i", "jti": "a"}, {"iss": "i", "jti": "a"}],
             "subjects": [{"iss": "i", "sub": "s", "issued_before": 10}, {"iss": "i", "sub": "s", "issued_before": 20},
                          {"iss": "i", "sub": "s", "issued_before": 15}]}
            """)
        XCTAssertEqual(list.count, 2)
        XCTAssertEqual(list.cutOff(iss: "i", sub: "s"), 20)
    }

    func testErrorTextsNameNoEntryValues() {
        XCTAssertEqual(RevocationDocumentError.tooManyEntries(count: 3, max: 2).description,
                       "revocation document has 3 entries, over max_entries 2")
        XCTAssertEqual(RevocationDocumentError.shape("`tokens[0].jti` is required").description,
                       "revocation document: `tokens[0].jti` is required")
    }
}
