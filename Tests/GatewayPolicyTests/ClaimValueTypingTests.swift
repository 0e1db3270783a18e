import GatewayJOSE
import GatewayPolicy
import XCTest

/// `auth.claims` values follow the YAML 1.2 core schema, with exact numbers: `NO` stays the
/// string "NO" (YAML 1.1 made it false), `0x1F` stays text, and big integers keep every digit.
final class ClaimValueTypingTests: XCTestCase {
    func claims(_ flow: String) throws -> [(name: String, value: ClaimValue)] {
        let yaml = """
            listen: {address: 0.0.0.0:80}
            issuers:
              - {name: corp, issuer: "https://corp", algorithms: [RS256], jwks_file: j.json}
            upstreams: {orders: {url: "http://orders"}}
            routes:
              - name: a
                match: {path: /a}
                upstream: orders
                auth: {issuers: [corp], claims: \(flow)}
            """
        let config = try ConfigLoader.parse(yaml: yaml, path: "gw.yml", environment: [:])
        guard case .required(let req) = config.routes[0].auth else { XCTFail("public"); return [] }
        return req.claims
    }

    func value(_ scalar: String) throws -> ClaimValue? { try claims("{c: \(scalar)}").first?.value }
    func number(_ text: String) -> ClaimValue { .number(JSONNumber(text)!) }

    func testYAML11BooleanWordsAreStrings() throws {
        for word in ["yes", "no", "NO", "on", "off", "On", "y", "n", "Yes"] {
            XCTAssertEqual(try value(word), .string(word), word)
        }
        for word in ["true", "True", "TRUE"] { XCTAssertEqual(try value(word), .bool(true), word) }
        for word in ["false", "False", "FALSE"] { XCTAssertEqual(try value(word), .bool(false), word) }
    }

    func testHexOctalAndSexagesimalAreStrings() throws {
        for text in ["0x1F", "0o17", "017x", "1:30", "1_000", "0b101"] {
            XCTAssertEqual(try value(text), .string(text), text)
        }
    }

    func testIntegersAreExact() throws {
        XCTAssertEqual(try value("9007199254740993"), number("9007199254740993"))
        XCTAssertNotEqual(try value("9007199254740993"), number("9007199254740992"))
        XCTAssertEqual(try value("123456789012345678901234567890"), number("123456789012345678901234567890"))
        XCTAssertEqual(try value("-42"), number("-42"))
        XCTAssertEqual(try value("+42"), number("42"))
        XCTAssertEqual(try value("007"), number("7"), "core schema: decimal with leading zeros")
        XCTAssertEqual(try value("1.5"), number("1.5"))
        XCTAssertEqual(try value("1e3"), number("1000"))
        XCTAssertEqual(try value(".5"), number("0.5"))
        XCTAssertEqual(try value("\"9007199254740993\""), .string("9007199254740993"), "quoted: a string")
        XCTAssertEqual(try value("'yes'"), .string("yes"))
    }

    func testNullAndNonFiniteAreErrors() {
        for (text, message) in [("~", "must be a string, number or boolean, not empty"), ("null", "not empty"),
                                (".inf", "must be a decimal number, not `.inf`"), ("-.INF", "decimal number"),
                                (".nan", "decimal number")] {
            do {
                _ = try value(text)
                XCTFail("accepted \(text)")
            } catch {
                let text = (error as? ConfigErrors)?.errors.map(\.description).joined() ?? "\(error)"
                XCTAssertTrue(text.contains(message), text)
            }
        }
    }
}
