import XCTest
import GatewayHTTP

/// Path normalisation (docs/request-handling.md): input → normalised path, or refusal.
final class PathNormalizerTests: XCTestCase {
    /// (target, expected path or nil when refused)
    static let table: [(String, String?)] = [
        // Plain paths are kept.
        ("/", "/"),
        ("/orders", "/orders"),
        ("/orders/", "/orders/"),
        ("/Orders/ABC", "/Orders/ABC"),                   // case kept
        ("/a/b/c.json", "/a/b/c.json"),
        ("/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,="),          // sub-delims, ":" and "@" are pchar
        // Repeated slashes merged, trailing slash kept.
        ("//", "/"),
        ("//orders", "/orders"),
        ("/orders//1", "/orders/1"),
        ("/orders///", "/orders/"),
        // Dot-segments (RFC 3986 §5.2.4).
        ("/.", "/"),
        ("/./orders", "/orders"),
        ("/a/./b", "/a/b"),
        ("/a/b/..", "/a/"),
        ("/a/b/../c", "/a/c"),
        ("/a/b/.", "/a/b/"),
        ("/a/../b/../c", "/c"),
        ("/a/..", "/"),
        ("/a//../b", "/b"),                               // slashes merged before dot removal
        // Trailing dots and dot-like names are not dot-segments.
        ("/a.", "/a."),
        ("/a..", "/a.."),
        ("/...", "/..."),
        ("/a/.b", "/a/.b"),
        ("/a/..b/", "/a/..b/"),
        // Unreserved percent-encodings decoded, others uppercased and kept.
        ("/%7Euser", "/~user"),
        ("/%61%62%63", "/abc"),
        ("/a%2Db%2e%5F", "/a-b._"),
        ("/a%20b", "/a%20b"),
        ("/a%3bb", "/a%3Bb"),                             // encoded ";" stays encoded
        ("/%25", "/%25"),                                 // no double decoding
        ("/%25zz", "/%25zz"),                             // a literal "%" before non-hex
        // Double encoding: "%25" before two hex digits would decode to another escape.
        ("/%2541", nil),
        ("/a/%252e%252e/admin", nil),
        ("/%252F", nil),
        ("/%25%32%65", nil),                               // decodes to %252e
        // Not UTF-8 once decoded (RFC 3629 §3): overlong forms, stray bytes, surrogates.
        ("/%C0%AE%C0%AE/admin", nil),
        ("/%c0%af", nil),
        ("/%FF", nil),
        ("/caf%C3", nil),
        ("/%ED%A0%80", nil),
        ("/%F4%90%80%80", nil),                            // above U+10FFFF
        ("/%F0%9F%98%80", "/%F0%9F%98%80"),                // 4-byte UTF-8 is fine
        ("/caf%c3%a9", "/caf%C3%A9"),
        // Encoded dots are decoded before dot removal.
        ("/a/%2e%2e/b", "/b"),
        ("/a/%2E/b", "/a/b"),
        ("/a/.%2e/b", "/b"),
        // Escaping above the root: refused, never clamped.
        ("/..", nil),
        ("/../orders", nil),
        ("/a/../..", nil),
        ("/a/../../b", nil),
        ("/%2e%2e/etc/passwd", nil),
        ("/./../a", nil),
        // Encoded separators and NUL.
        ("/a%2Fb", nil),
        ("/a%2fb", nil),
        ("/a%5Cb", nil),
        ("/a%5cb", nil),
        ("/a%00b", nil),
        // Raw backslash, path parameters, fragments.
        ("/a\\b", nil),
        ("/a;b", nil),
        ("/a;jsessionid=1/b", nil),
        ("/a#frag", nil),
        ("/a?q#frag", nil),
        // Bad percent-encoding.
        ("/%G1", nil),
        ("/%4", nil),
        ("/a%", nil),
        ("/%%41", nil),
        // Characters that may not appear.
        ("/a b", nil),
        ("/a\tb", nil),
        ("/a\u{01}", nil),
        ("/a\u{7F}", nil),
        ("/é", nil),
        ("/a\"b", nil),
        ("/a<b>", nil),
        ("/a|b", nil),
        ("/a{b}", nil),
        // Not origin-form.
        ("", nil),
        ("*", nil),
        ("orders", nil),
        ("http://example.com/orders", nil),
        ("?q=1", nil),
    ]

    func testTable() {
        XCTAssertGreaterThanOrEqual(Self.table.count, 30)
        for (target, expected) in Self.table {
            do {
                let normalized = try PathNormalizer.normalize(target)
                XCTAssertEqual(normalized.path, expected, "\(target.debugDescription)")
                XCTAssertNil(normalized.query, "\(target.debugDescription)")
            } catch {
                XCTAssertNil(expected, "\(target.debugDescription) refused: \(error)")
            }
        }
    }

    func testQueryIsKeptExactlyAsSent() throws {
        let cases: [(String, String, String?)] = [
            ("/a?", "/a", ""),
            ("/a?x=1&y=%2f%2F", "/a", "x=1&y=%2f%2F"),
            ("/a/../b?path=/../..", "/b", "path=/../.."),
            ("/%7e?%7e=%7e", "/~", "%7e=%7e"),
            ("/a?b?c", "/a", "b?c"),
            ("/a?x=;y", "/a", "x=;y"),
        ]
        for (target, path, query) in cases {
            let normalized = try PathNormalizer.normalize(target)
            XCTAssertEqual(normalized, NormalizedTarget(path: path, query: query), target)
        }
        XCTAssertEqual(try PathNormalizer.normalize("/a/./b?q=1").originForm, "/a/b?q=1")
        XCTAssertEqual(try PathNormalizer.normalize("/a").originForm, "/a")
    }

    func testRefusalsInTheQuery() {
        XCTAssertThrowsError(try PathNormalizer.normalize("/a?q=a b"))
        XCTAssertThrowsError(try PathNormalizer.normalize("/a?q=\u{00}"))
        XCTAssertThrowsError(try PathNormalizer.normalize("/a?q=é"))
    }

    func testNormalisationIsIdempotent() throws {
        for (target, expected) in Self.table {
            guard let expected else { continue }
            XCTAssertEqual(try PathNormalizer.normalize(expected).path, expected, target)
        }
    }

    func testErrorReasonDoesNotEchoTheTarget() {
        do {
            _ = try PathNormalizer.normalize("/secret-evil/..;/x")
            XCTFail("expected refusal")
        } catch {
            guard case .invalid(let reason) = error else { return XCTFail("wrong error") }
            XCTAssertFalse(reason.contains("evil"))
        }
    }
}
