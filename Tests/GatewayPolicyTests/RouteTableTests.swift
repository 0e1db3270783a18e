import GatewayPolicy
import XCTest

/// `RouteTable.match`: first route in file order whose host, method and path fit.
final class RouteTableTests: XCTestCase {
    var table: RouteTable!
    var names: [String] = []

    override func setUpWithError() throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: {address: 0.0.0.0:80}
            upstreams: {u: {url: "http://u"}}
            routes:
              - {name: api-orders, match: {host: API.example.com, path_prefix: /orders, methods: [GET, HEAD]}, upstream: u, auth: public}
              - {name: orders, match: {path_prefix: /orders}, upstream: u, auth: public}
              - {name: slash, match: {path_prefix: /files/}, upstream: u, auth: public}
              - {name: status, match: {path: /status}, upstream: u, auth: public}
              - {name: wild, match: {host: "*.example.com", path_prefix: /w}, upstream: u, auth: public}
              - {name: v6, match: {host: "[::1]", path: /six}, upstream: u, auth: public}
              - {name: regex, match: {path_regex: "/v[0-9]+/items"}, upstream: u, auth: public}
              - {name: ci, match: {path_prefix: /Docs, case_insensitive: true}, upstream: u, auth: public}
              - {name: ci-re, match: {path_regex: "/img/[a-z]+\\\\.png", case_insensitive: true}, upstream: u, auth: public}
              - {name: post, match: {path: /submit, methods: [post]}, upstream: u, auth: public}
            """, path: "gw.yml", environment: [:])
        table = RouteTable(routes: config.routes)
        names = config.routes.map(\.name)
    }

    func route(_ host: String?, _ path: String, _ method: String = "GET") -> String? {
        table.match(host: host, path: path, method: method).map { names[$0] }
    }

    func testMatchTable() {
        let cases: [(String?, String, String, String?)] = [
            // Prefix boundaries.
            (nil, "/orders", "GET", "orders"),
            (nil, "/orders/", "GET", "orders"),
            (nil, "/orders/42", "GET", "orders"),
            (nil, "/ordersX", "GET", nil),
            (nil, "/order", "GET", nil),
            (nil, "/files/", "GET", "slash"),
            (nil, "/files/a", "GET", "slash"),
            (nil, "/files", "GET", nil),
            // Exact paths.
            (nil, "/status", "GET", "status"),
            (nil, "/status/", "GET", nil),
            (nil, "/Status", "GET", nil),
            // Hosts: case, ports, trailing dot, methods.
            ("api.example.com", "/orders/1", "GET", "api-orders"),
            ("API.Example.COM:8443", "/orders/1", "HEAD", "api-orders"),
            ("api.example.com.", "/orders", "GET", "api-orders"),
            ("api.example.com", "/orders/1", "POST", "orders"),
            ("other.example.org", "/orders/1", "GET", "orders"),
            // Wildcards: subdomains at any depth, never the apex.
            ("a.example.com", "/w/x", "GET", "wild"),
            ("a.b.example.com:80", "/w", "GET", "wild"),
            ("example.com", "/w", "GET", nil),
            ("badexample.com", "/w", "GET", nil),
            (nil, "/w", "GET", nil),
            // IPv6 Host header.
            ("[::1]:8080", "/six", "GET", "v6"),
            ("[::1]", "/six", "GET", "v6"),
            ("[::2]", "/six", "GET", nil),
            // Regex: whole-path match.
            (nil, "/v2/items", "GET", "regex"),
            (nil, "/v2/items/1", "GET", nil),
            (nil, "/x/v2/items", "GET", nil),
            // Case-insensitive routes.
            (nil, "/docs/a", "GET", "ci"),
            (nil, "/DOCS", "GET", "ci"),
            (nil, "/DocsX", "GET", nil),
            (nil, "/IMG/Logo.PNG", "GET", "ci-re"),
            // Methods are uppercased in config, compared case-sensitively (RFC 9110 §9.1).
            (nil, "/submit", "POST", "post"),
            (nil, "/submit", "post", nil),
            (nil, "/submit", "GET", nil),
        ]
        for (host, path, method, expected) in cases {
            XCTAssertEqual(route(host, path, method), expected, "\(host ?? "-") \(method) \(path)")
        }
    }

    func testHandBuiltRoutesMatchToo() throws {
        let re = try Regex("/a+")
        var ci = Route(name: "ci", host: nil, path: .regex(source: "/a+", compiled: re), methods: nil, upstream: "u",
                       auth: .publicAccess, location: ConfigLocation(path: "x", line: 1, column: 1))
        ci.caseInsensitive = true
        let table = RouteTable(routes: [ci])
        XCTAssertEqual(table.match(host: "h", path: "/AaA", method: "GET"), 0)
        XCTAssertNil(table.match(host: "h", path: "/AaB", method: "GET"))
    }
}
