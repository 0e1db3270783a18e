import GatewayPolicy
import XCTest

/// `revocation:` in gateway.yml.
final class RevocationConfigTests: XCTestCase {
    let base = "listen: {address: 127.0.0.1:0}\nupstreams:\n  u: {url: \"http://127.0.0.1:9\"}\nroutes:\n  - {name: r, match: {path: /}, upstream: u, auth: public}\n"

    func parse(_ tail: String) throws -> GatewayConfig {
        try ConfigLoader.parse(yaml: base + tail, path: "/etc/gw/g.yml", environment: [:])
    }

    func errors(_ tail: String) -> [String] {
        do {
            _ = try parse(tail)
            return []
        } catch {
            return (error as? ConfigErrors)?.errors.map(\.description) ?? ["\(error)"]
        }
    }

    func testAbsentByDefault() throws {
        XCTAssertNil(try parse("").revocation)
    }

    func testDefaultsAndResolvedFile() throws {
        let r = try XCTUnwrap(try parse("revocation:\n  file: revoked.json\n").revocation)
        XCTAssertEqual(r.file, "/etc/gw/revoked.json")
        XCTAssertNil(r.url)
        XCTAssertEqual(r.refresh, 30)
        XCTAssertEqual(r.maxStale, 300)
        XCTAssertEqual(r.maxEntries, 1_000_000)
        XCTAssertEqual(r.location, ConfigLocation(path: "/etc/gw/g.yml", line: 6, column: 1))
    }

    func testEveryKey() throws {
        let r = try XCTUnwrap(try parse("""
            revocation:
              file: /var/lib/revoked.json
              url: https://auth.example.com/revoked.json
              refresh: 5s
              max_stale: 2m
              max_entries: 10
            """).revocation)
        XCTAssertEqual(r.file, "/var/lib/revoked.json")
        XCTAssertEqual(r.url, "https://auth.example.com/revoked.json")
        XCTAssertEqual(r.refresh, 5)
        XCTAssertEqual(r.maxStale, 120)
        XCTAssertEqual(r.maxEntries, 10)
    }

    func testLoopbackHTTPIsAllowed() throws {
        XCTAssertEqual(try parse("revocation: {url: \"http://127.0.0.1:8000/r.json\"}\n").revocation?.url,
                       "http://127.0.0.1:8000/r.json")
    }

    func testErrorsAreLocated() {
        XCTAssertEqual(errors("revocation: {}\n"),
                       ["/etc/gw/g.yml:6:13: `revocation` needs `file`, `url` or both"])
        XCTAssertEqual(errors("revocation: {url: \"http://auth.example.com/r.json\"}\n"),
                       ["/etc/gw/g.yml:6:19: invalid `revocation.url` `http://auth.example.com/r.json`: must be https (http only for a loopback host)"])
        XCTAssertEqual(errors("revocation: {file: r.json, refresh: 500ms}\n"),
                       ["/etc/gw/g.yml:6:37: `revocation.refresh` must be at least 1s"])
        XCTAssertEqual(errors("revocation: {file: r.json, max_entries: 0}\n"),
                       ["/etc/gw/g.yml:6:41: `revocation.max_entries` must be greater than zero"])
        XCTAssertEqual(errors("revocation: {file: r.json, refrsh: 5s}\n").count, 1)
        XCTAssertTrue(errors("revocation: {file: r.json, refrsh: 5s}\n")[0].contains("unknown key `refrsh` in `revocation`"))
    }
}
