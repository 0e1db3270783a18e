import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// The hardening rules at the socket, each from its reproducer: what the client gets and
/// what reaches (or never reaches) the recording upstream.
final class HardeningIntegrationTests: XCTestCase {
    var upstream: RecordingUpstream!
    var gateway: GatewayProcess!

    static let looseIssuer = "https://loose.test.example/"

    override func setUpWithError() throws {
        upstream = try RecordingUpstream(handler: { req in .ok("path=\(req.target)") })
        let ed = try SigningKey.privateKeyPEM(Fixtures.bytes("vectors/keys/ed-1.pem"))
        let dupA = JSONWriter.serialize(ed.publicJWK(keyID: "dup", algorithm: nil)!)
        let dupB = JSONWriter.serialize(try SigningKey.generate(for: .Ed25519).publicJWK(keyID: "dup", algorithm: nil)!)
        let config = """
            listen:
              address: 127.0.0.1:0
            limits:
              max_body_bytes: 1KiB
            issuers:
              - name: test
                issuer: \(TestTokens.issuer)
                audiences: [orders-api]
                algorithms: [RS256, Ed25519]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
              - name: loose
                issuer: \(Self.looseIssuer)
                audiences: [orders-api]
                algorithms: [RS256]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
                require_sub: false
              - name: rotating
                issuer: https://rotating.test.example/
                audiences: [orders-api]
                algorithms: [EdDSA]
                jwks_file: dup.json
            upstreams:
              main:
                url: http://127.0.0.1:\(upstream.port)
                timeout: 30s
            identity:
              claims: {org_id: X-Auth-Org, ratio: X-Auth-Ratio}
            routes:
              - name: org
                match: {path_prefix: /org}
                upstream: main
                auth: {issuers: [test], claims: {org_id: 9007199254740993}}
              - name: loose
                match: {path_prefix: /loose}
                upstream: main
                auth: {issuers: [loose, rotating]}
              - name: search
                match: {path_prefix: /search}
                upstream: main
                allow_body_on_get: true
                auth: public
              - name: all
                match: {path_prefix: /}
                upstream: main
                auth: public
            """
        do {
            gateway = try GatewayProcess(config: config, files: ["dup.json": #"{"keys":[\#(dupA),\#(dupB)]}"#])
        } catch {
            upstream.stop()
            throw error
        }
    }

    override func tearDown() {
        gateway?.stop()
        upstream?.stop()
    }

    func send(_ raw: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: gateway.port)
        try c.send(raw)
        return try c.readResponse(headRequest: raw.hasPrefix("HEAD "))
    }

    func get(_ target: String, token: String? = nil, headers: String = "") throws -> RawResponse {
        let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        return try send("GET \(target) HTTP/1.1\r\nHost: api.test\r\n\(auth)\(headers)\r\n")
    }

    func forwarded(_ target: String) -> [RecordedRequest] { upstream.requests.filter { $0.target == target } }

    func header(_ r: RecordedRequest, _ name: String) -> [String] {
        r.fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    func number(_ text: String) -> JSONValue { .number(JSONNumber(text)!) }

    func testClaimNumbersAreExactInDecisionsAndHeaders() throws {
        // Reproducer: a route requiring org_id 9007199254740993 accepted 9007199254740992.
        XCTAssertEqual(try get("/org/near", token: TestTokens.rs256(["org_id": number("9007199254740992")])).status, 403)
        XCTAssertTrue(forwarded("/org/near").isEmpty)
        let ok = try get("/org/exact", token: TestTokens.rs256(["org_id": number("9007199254740993"), "ratio": number("0.10")]))
        XCTAssertEqual(ok.status, 200, ok.bodyText)
        let r = try XCTUnwrap(forwarded("/org/exact").first)
        XCTAssertEqual(header(r, "X-Auth-Org"), ["9007199254740993"])
        XCTAssertEqual(header(r, "X-Auth-Ratio"), ["0.10"])
        // Reproducer: identity headers showed 1.2345678901234568e+18 and 9007199254740992.0.
        let big = try get("/loose/big", token: TestTokens.rs256(["iss": .string(Self.looseIssuer),
                                                                  "org_id": number("1234567890123456789")]))
        XCTAssertEqual(big.status, 200, big.bodyText)
        XCTAssertEqual(header(try XCTUnwrap(forwarded("/loose/big").first), "X-Auth-Org"), ["1234567890123456789"])
        _ = try get("/loose/two53", token: TestTokens.rs256(["iss": .string(Self.looseIssuer), "org_id": number("9007199254740992")]))
        XCTAssertEqual(header(try XCTUnwrap(forwarded("/loose/two53").first), "X-Auth-Org"), ["9007199254740992"])
    }

    func testSubMustBeANonEmptyStringUnlessTheIssuerWaivesIt() throws {
        let subs: [JSONValue?] = [nil, .string(""), .number(42), .array([.string("a"), .string("b")])]
        for (i, sub) in subs.enumerated() {
            let r = try get("/org/sub\(i)", token: TestTokens.rs256(["sub": sub, "org_id": number("9007199254740993")]))
            XCTAssertEqual(r.status, 401, "sub \(String(describing: sub))")
            XCTAssertTrue(r.header("WWW-Authenticate")?.contains("error=\"invalid_token\"") == true)
            XCTAssertTrue(r.header("WWW-Authenticate")?.contains("claim sub") == true, r.header("WWW-Authenticate") ?? "")
        }
        XCTAssertTrue(upstream.requests.filter { $0.target.hasPrefix("/org/sub") }.isEmpty)
        let waived = try get("/loose/nosub", token: TestTokens.rs256(["iss": .string(Self.looseIssuer), "sub": nil]))
        XCTAssertEqual(waived.status, 200, waived.bodyText)
        XCTAssertEqual(header(try XCTUnwrap(forwarded("/loose/nosub").first), "X-Auth-Subject"), [])
    }

    func testPathsThatDecodeDifferentlyAreRefused() throws {
        for target in ["/%C0%AE%C0%AE/admin", "/%FF", "/a/%252e%252e/admin", "/%25%32%65"] {
            let r = try get(target)
            XCTAssertEqual(r.status, 400, target)
            XCTAssertEqual(r.header("Connection"), "close")
        }
        XCTAssertEqual(try get("/caf%C3%A9").status, 200)
        XCTAssertEqual(upstream.requests.map(\.target), ["/caf%C3%A9"])
    }

    func testGetAndHeadWithContentAreRefusedUnlessTheRouteAllowsThem() throws {
        for method in ["GET", "HEAD"] {
            XCTAssertEqual(try send("\(method) /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").status, 400, method)
            XCTAssertEqual(try send("\(method) /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").status,
                           400, method)
        }
        XCTAssertTrue(upstream.requests.isEmpty, "a GET body reached the upstream")
        XCTAssertEqual(try send("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").status, 200)
        let search = try send("GET /search HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n{\"q\":\"books\"}")
        XCTAssertEqual(search.status, 200)
        XCTAssertEqual(try XCTUnwrap(forwarded("/search").first).body, Array(#"{"q":"books"}"#.utf8))
    }

    func testChunkSizeOverTheLimitIs413AtOnce() throws {
        let c = try RawHTTPClient(port: gateway.port)
        let start = Date()
        // Only the size line: the data never comes. The upstream timeout is 30 s.
        try c.send("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n801\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 413)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "answered before the upstream timeout")
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertTrue(upstream.requests.isEmpty, "the upstream saw a complete request")
    }

    func testMalformedChunkExtensionIsRefused() throws {
        let r = try send("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0;ext=\"a\r\n\r\n")
        XCTAssertEqual(r.status, 400)
        let ok = try send("POST /y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"b;c\"\r\nhi\r\n0\r\n\r\n")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(upstream.requests.map(\.target), ["/y"])
        XCTAssertEqual(upstream.requests.first?.body, Array("hi".utf8))
    }

    func testTrackAndProxyControlFields() throws {
        XCTAssertEqual(try send("TRACK /x HTTP/1.1\r\nHost: a\r\n\r\n").status, 405)
        XCTAssertEqual(try send("TRACE /x HTTP/1.1\r\nHost: a\r\n\r\n").status, 405)
        let hostile = ["Front-End-Https", "X-Url-Scheme", "X-Host", "X-Method", "X-Original-Host", "X_Original_URL",
                       "CF-Connecting-IP", "Fastly-Client-IP", "X-Cluster-Client-IP", "X-Envoy-Original-Path", "x_envoy_internal"]
        let r = try get("/fields", headers: hostile.map { "\($0): evil\r\n" }.joined() + "X-Keep: yes\r\n")
        XCTAssertEqual(r.status, 200)
        let rec = try XCTUnwrap(forwarded("/fields").first)
        XCTAssertFalse(rec.fields.contains { $0.value == "evil" }, "\(rec.fields)")
        XCTAssertEqual(header(rec, "X-Keep"), ["yes"])
        XCTAssertFalse(upstream.requests.contains { $0.method == "TRACK" || $0.method == "TRACE" })
    }

    func testEd25519TokensAndRepeatedKeyIDs() throws {
        let ed = try SigningKey.privateKeyPEM(Fixtures.bytes("vectors/keys/ed-1.pem"))
        let now = Date().timeIntervalSince1970.rounded(.down)
        func token(_ alg: JWSAlgorithm, iss: String = TestTokens.issuer, kid: String = "ed-1") throws -> String {
            try ed.sign(claims: .object([("iss", .string(iss)), ("aud", .string("orders-api")), ("sub", .string("ed")),
                                         ("org_id", number("9007199254740993")), ("iat", .number(now)), ("exp", .number(now + 600))]),
                        algorithm: alg, keyID: kid)
        }
        XCTAssertEqual(try get("/org/ed25519", token: token(.Ed25519)).status, 200)
        let eddsa = try get("/org/eddsa", token: token(.EdDSA))
        XCTAssertEqual(eddsa.status, 401, "EdDSA is not in this issuer's algorithms")
        // The rotating issuer's set repeats kid "dup": the warning is logged at start, and a
        // token naming it is checked against each key with it.
        XCTAssertTrue(gateway.stdout.contains("repeats kid \\\"dup\\\" in 2 keys") || gateway.stdout.contains("repeats kid \"dup\" in 2 keys"),
                      gateway.stdout)
        XCTAssertEqual(try get("/loose/dup", token: token(.EdDSA, iss: "https://rotating.test.example/", kid: "dup")).status, 200)
        XCTAssertEqual(upstream.requests.map(\.target).sorted(), ["/loose/dup", "/org/ed25519"])
    }
}

extension HardeningIntegrationTests {
    func testCheckWarnsAboutARepeatedKeyID() throws {
        let dir = NSTemporaryDirectory() + "gateway-dupkid-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = JSONWriter.serialize(try SigningKey.generate(for: .Ed25519).publicJWK(keyID: "k1", algorithm: nil)!)
        let b = JSONWriter.serialize(try SigningKey.generate(for: .Ed25519).publicJWK(keyID: "k1", algorithm: nil)!)
        try #"{"keys":[\#(a),\#(b)]}"#.write(toFile: dir + "/jwks.json", atomically: true, encoding: .utf8)
        try """
            listen: {address: 127.0.0.1:0}
            issuers:
              - {name: i, issuer: "https://i.example/", audiences: [x], algorithms: [Ed25519], jwks_file: jwks.json}
            upstreams: {u: {url: "http://127.0.0.1:9"}}
            routes:
              - {name: r, match: {path_prefix: /}, upstream: u, auth: {issuers: [i]}}
            """.write(toFile: dir + "/gateway.yml", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = ["check", "--config", dir + "/gateway.yml"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, e)
        XCTAssertTrue(e.contains(#"warning: issuer i: JWK Set repeats kid "k1" in 2 keys: a token naming it is checked against each"#),
                      "stdout: \(o)\nstderr: \(e)")
    }
}
