import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// A real browser (headless Chromium, Debian package `chromium`, installed by `make test`)
/// against the real gateway: a page on one loopback origin calls the gateway on another
/// with `fetch(..., {credentials: "include"})`. docs/browser-apps.md ("Checked with a real
/// browser") explains the set-up.
///
/// Origins: the page (and the "login app") on `http://127.0.0.1:P1`, the gateway on
/// `http://127.0.0.1:P2`. Different ports are different origins (so CORS and the preflight
/// apply), but the same site (cookies ignore ports, RFC 6265 §8.5; SameSite compares sites),
/// so the `SameSite=Lax`, `HttpOnly` cookie the login app sets on 127.0.0.1 is sent to the
/// gateway on `fetch` without `Secure` or `SameSite=None`, which plain HTTP could not carry.
final class BrowserChromiumTests: XCTestCase {
    /// The browser: `$CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
    static func chromiumPath() -> String? {
        if let env = ProcessInfo.processInfo.environment["CHROMIUM"], !env.isEmpty { return env }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    static func page(gatewayPort: UInt16) -> String {
        let api = "http://127.0.0.1:\(gatewayPort)/api/orders"
        return """
            <!doctype html><html><body><pre id="out">pending</pre><script>
            async function attempt(label, url, init) {
              try {
                const r = await fetch(url, init);
                return label + ":" + r.status + ":" + (await r.text()) + ":" + (r.headers.get("X-Order-Count") || "hidden");
              } catch (e) {
                return label + ":blocked";
              }
            }
            (async () => {
              const out = [];
              // Not CORS-safelisted (JSON): a preflight first, then the POST with the cookie.
              out.push(await attempt("post", "\(api)", {method: "POST", credentials: "include",
                headers: {"Content-Type": "application/json"}, body: "{\\"n\\":1}"}));
              // Without the cookie: the gateway's 401, readable by the page (CORS on refusals).
              out.push(await attempt("omit", "\(api)", {credentials: "omit"}));
              // A header the route does not allow: the preflight is refused, nothing is sent.
              out.push(await attempt("secret", "\(api)", {method: "POST", credentials: "include",
                headers: {"Content-Type": "application/json", "X-Secret": "1"}, body: "{}"}));
              document.getElementById("out").textContent = out.join("|") + "|done";
            })();
            </script></body></html>
            """
    }

    func testCredentialedCrossOriginFetchFromARealBrowser() throws {
        guard let chromium = Self.chromiumPath() else {
            return XCTFail("chromium is not installed (make test installs the Debian package `chromium`; or set CHROMIUM)")
        }
        let token = Fixtures.token("valid-RS256")
        let api = try RecordingUpstream { _ in
            .ok("api-ok", fields: [HTTPField(name: "Access-Control-Allow-Origin", value: "*"),
                                 HTTPField(name: "X-Order-Count", value: "3")])
        }
        defer { api.stop() }
        // The gateway's port is needed by the page before the page server answers: a box.
        let gatewayPort = LockedBox<UInt16>(0)
        let pages = try RecordingUpstream { req in
            switch req.target {
            case "/login":
                // The login app: the token as an HttpOnly cookie for the host, then to the app.
                return .fixed(status: 302, fields: [
                    HTTPField(name: "Set-Cookie", value: "access_token=\(token); Path=/; HttpOnly; SameSite=Lax"),
                    HTTPField(name: "Set-Cookie", value: "theme=dark; Path=/; SameSite=Lax"),
                    HTTPField(name: "Location", value: "/app.html"),
                ], body: [])
            case "/app.html":
                return .ok(Self.page(gatewayPort: gatewayPort.value),
                           fields: [HTTPField(name: "Content-Type", value: "text/html; charset=utf-8")])
            default:
                return .fixed(status: 404, fields: [], body: [])
            }
        }
        defer { pages.stop() }
        let pageOrigin = "http://127.0.0.1:\(pages.port)"
        let gateway = try GatewayProcess(config: """
            listen: {address: 127.0.0.1:0}
            issuers:
              - name: test
                issuer: https://issuer.test.example/
                audiences: [orders-api]
                algorithms: [RS256]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
            upstreams:
              api: {url: "http://127.0.0.1:\(api.port)", connect_timeout: 2s, timeout: 5s}
            routes:
              - name: api
                match: {path_prefix: /api}
                upstream: api
                auth:
                  issuers: [test]
                  token_from: [{cookie: access_token}]
                  csrf_origins: [\(pageOrigin)]
                cors:
                  allowed_origins: [\(pageOrigin)]
                  allowed_methods: [GET, POST]
                  allowed_headers: [Content-Type]
                  expose_headers: [X-Order-Count]
                  max_age: 1m
                  allow_credentials: true
            """)
        defer { gateway.stop() }
        gatewayPort.value = gateway.port

        let profile = NSTemporaryDirectory() + "gw-chromium-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let run = try Self.dumpDOM(chromium, url: "\(pageOrigin)/login", profile: profile, seconds: 90)
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.dom.contains("|done"), "the page's script did not finish: \(run.dom)\n\(run.err.suffix(2000))")
        // The POST went through (preflight allowed, cookie sent, Origin listed) and the page
        // could read the body and the exposed field; the refusal is readable too, without it.
        XCTAssertTrue(run.dom.contains("post:200:api-ok:3"), run.dom)
        XCTAssertTrue(run.dom.contains("omit:401:{\"error\":\"unauthorized\",\"error_description\":\"bearer token required\"}:hidden"), run.dom)
        XCTAssertTrue(run.dom.contains("secret:blocked"), run.dom)

        // The page server saw the browser send the cookie back (it was stored).
        XCTAssertTrue(pages.requests.contains { $0.target == "/app.html" && $0.values("Cookie").first?.contains("access_token=") == true })
        // The upstream saw exactly the POST: no preflight, no refused request; the token
        // cookie removed, the other one kept.
        let got = api.requests
        XCTAssertEqual(got.map(\.method), ["POST"])
        guard let post = got.first else { return }
        XCTAssertEqual(post.values("Cookie"), ["theme=dark"])
        XCTAssertEqual(post.values("Origin"), [pageOrigin])
        XCTAssertEqual(post.values("X-Auth-Subject"), ["user-42"])
        XCTAssertEqual(post.body, Array("{\"n\":1}".utf8))

        var reasons: [String] = []
        for _ in 0..<100 {
            reasons = gateway.stdout.split(separator: "\n").filter { $0.contains("\"message\":\"request\"") }.compactMap {
                guard case .string(let s)? = (try? JSONReader.parse(Array($0.utf8)))?[member: "reason"] else { return nil }
                return s
            }
            if reasons.count >= 4 { break }
            usleep(20_000)
        }
        XCTAssertEqual(reasons.sorted(), ["cors_preflight", "cors_preflight_refused", "missing_token", "ok"])
    }

    /// Runs `chromium --headless --dump-dom` on `url` and returns the DOM it printed. The
    /// virtual time budget lets the page's `fetch` calls finish before the dump (virtual
    /// time does not advance while network fetches are pending); `seconds` bounds the run.
    static func dumpDOM(_ chromium: String, url: String, profile: String, seconds: Double) throws
        -> (status: Int32, dom: String, err: String)
    {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server", "--no-first-run",
                       "--disable-extensions", "--disable-background-networking", "--user-data-dir=\(profile)",
                       "--virtual-time-budget=5000", "--dump-dom", url]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let outText = LockedBox(Data()), errText = LockedBox(Data())
        out.fileHandleForReading.readabilityHandler = { h in let d = h.availableData; outText.mutate { $0.append(d) } }
        err.fileHandleForReading.readabilityHandler = { h in let d = h.availableData; errText.mutate { $0.append(d) } }
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning {
            p.terminate()
            usleep(500_000)
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        outText.mutate { $0.append(out.fileHandleForReading.readDataToEndOfFile()) }
        errText.mutate { $0.append(err.fileHandleForReading.readDataToEndOfFile()) }
        return (p.terminationStatus, String(decoding: outText.value, as: UTF8.self), String(decoding: errText.value, as: UTF8.self))
    }
}

/// A value shared between threads behind a lock.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
    func mutate(_ body: (inout Value) -> Void) { lock.lock(); body(&stored); lock.unlock() }
}
