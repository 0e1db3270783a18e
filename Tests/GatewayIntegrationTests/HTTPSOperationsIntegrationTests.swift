import Foundation
import GatewayTestSupport
import XCTest

/// HTTPS in operation: reloading certificates under an open connection, many concurrent TLS
/// connections, and `listen.trusted_proxies`.
final class HTTPSOperationsIntegrationTests: HTTPSTestCase {
    /// Python helpers: a TLS connection trusting the test CA, one keep-alive GET, the peer
    /// certificate's CN, and POST /reload on the admin listener.
    static let pythonHelpers = #"""
        import shutil, socket, ssl, sys, urllib.error, urllib.request

        def connect(port, ca, name):
            ctx = ssl.create_default_context(cafile=ca)
            return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=name)

        def get(conn, host):
            conn.sendall(("GET /status HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return "closed"
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return "closed"
                body += chunk
            return head.split(b" ")[1].decode()

        def cn(conn):
            return dict(item[0] for item in conn.getpeercert()["subject"]).get("commonName")

        def reload(admin):
            request = urllib.request.Request("http://127.0.0.1:%d/reload" % admin, method="POST", data=b"")
            try:
                with urllib.request.urlopen(request, timeout=20) as response:
                    return response.status
            except urllib.error.HTTPError as e:
                return e.code
        """#

    func testReloadSwapsTheCertificateWhileAnOpenConnectionKeepsWorking() throws {
        let files = ["server.pem": try String(contentsOfFile: pki.path("a.pem"), encoding: .utf8),
                     "server.key": try String(contentsOfFile: pki.path("a.key"), encoding: .utf8)]
        try start(config(tls: "    certificate: server.pem\n    private_key: server.key"), files: files)
        let script = Self.pythonHelpers + #"""

            port, admin, gdir, pdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
            ca = pdir + "/ca.pem"
            old = connect(port, ca, "a.example.com")
            print("before", get(old, "a.example.com"), cn(old))
            shutil.copy(pdir + "/wild.pem", gdir + "/server.pem")
            shutil.copy(pdir + "/wild.key", gdir + "/server.key")
            print("reload", reload(admin))
            new = connect(port, ca, "x.b.example.com")
            print("new", get(new, "x.b.example.com"), cn(new))
            print("old", get(old, "a.example.com"), cn(old))
            shutil.copy(pdir + "/a.key", gdir + "/server.key")  # no longer the certificate's key
            print("refused", reload(admin))
            newer = connect(port, ca, "y.b.example.com")
            print("kept", get(newer, "y.b.example.com"), cn(newer))
            print("old again", get(old, "a.example.com"))
            """#
        let r = try python(script, [String(gateway.port), String(gateway.adminPort), gateway.directory, pki.directory.path])
        XCTAssertEqual(r.exit, 0, r.output)
        XCTAssertEqual(r.output.split(separator: "\n").map(String.init), [
            "before 200 a.example.com", "reload 200", "new 200 wildcard", "old 200 a.example.com",
            "refused 400", "kept 200 wildcard", "old again 200",
        ], r.output + gateway.stdout)
        XCTAssertTrue(gateway.stdout.contains("server.key"), "the refused reload names the file")
        XCTAssertFalse(gateway.stdout.contains("PRIVATE KEY"))
        XCTAssertEqual(upstream.requests.count, 5)
    }

    func testAThousandConcurrentTLSConnections() throws {
        try start(config())
        // Every connection finishes its handshake and stays open until all are open; then each
        // asks for a protected route without a token (answered by the gateway itself: 401).
        let script = #"""
            import asyncio, ssl, sys
            port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

            async def main():
                ctx = ssl.create_default_context(cafile=ca)
                gate = asyncio.Semaphore(100)

                async def open_one():
                    async with gate:
                        return await asyncio.wait_for(asyncio.open_connection(
                            "127.0.0.1", port, ssl=ctx, server_hostname="a.example.com"), 60)

                conns = await asyncio.gather(*[open_one() for _ in range(n)], return_exceptions=True)
                opened = [c for c in conns if not isinstance(c, BaseException)]
                print("open", len(opened))
                for c in conns:
                    if isinstance(c, BaseException):
                        print("error", repr(c))
                        break

                async def ask(reader, writer):
                    writer.write(b"GET /orders HTTP/1.1\r\nHost: a.example.com\r\n\r\n")
                    await writer.drain()
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                    return head.split(b" ")[1]

                statuses = await asyncio.gather(*[ask(r, w) for r, w in opened], return_exceptions=True)
                print("401", sum(1 for s in statuses if s == b"401"))
                for _, w in opened:
                    w.close()

            asyncio.run(main())
            """#
        let r = try python(script, [String(gateway.port), pki.path("ca.pem"), "1000"], timeout: 180)
        XCTAssertEqual(r.exit, 0, r.output)
        XCTAssertEqual(r.output.split(separator: "\n").map(String.init), ["open 1000", "401 1000"], r.output)
        XCTAssertEqual(try handshakes("ok", version: "TLSv1.3"), 1000)
    }

    func testTrustedProxyKeepsForwardedFieldsAndNamesTheClient() throws {
        try start(config(extra: "  trusted_proxies: [127.0.0.1/32, 10.0.0.0/8]"))
        let forwarded = ["-H", "X-Forwarded-For: 198.51.100.7, 203.0.113.9, 10.1.2.3", "-H", "X-Forwarded-Proto: http",
                         "-H", "X-Forwarded-Host: public.example.com"]
        XCTAssertEqual(curl("/status", forwarded).status, 200)
        let seen = try XCTUnwrap(upstream.requests.last)
        XCTAssertEqual(seen.values("X-Forwarded-Proto"), ["http"])
        XCTAssertEqual(seen.values("X-Forwarded-Host"), ["public.example.com"])
        XCTAssertEqual(seen.values("X-Forwarded-For"), ["198.51.100.7, 203.0.113.9, 10.1.2.3, 127.0.0.1"])
        // The right-most address that is not a trusted proxy.
        XCTAssertTrue(accessLines.last?.contains("\"client\":\"203.0.113.9\"") == true, gateway.stdout)
        // Without forwarded fields the gateway's own values are used.
        XCTAssertEqual(curl("/status").status, 200)
        XCTAssertEqual(upstream.requests.last?.values("X-Forwarded-Proto"), ["https"])
        XCTAssertEqual(upstream.requests.last?.values("X-Forwarded-Host"), ["a.example.com:\(gateway.port)"])
        XCTAssertTrue(accessLines.last?.contains("\"client\":\"127.0.0.1\"") == true, gateway.stdout)
    }

    func testUntrustedPeerForwardedFieldsAreReplaced() throws {
        try start(config(extra: "  trusted_proxies: [10.0.0.0/8]"))
        let forwarded = ["-H", "X-Forwarded-For: 203.0.113.9", "-H", "X-Forwarded-Proto: http",
                         "-H", "X-Forwarded-Host: public.example.com"]
        XCTAssertEqual(curl("/status", forwarded).status, 200)
        let seen = try XCTUnwrap(upstream.requests.last)
        XCTAssertEqual(seen.values("X-Forwarded-Proto"), ["https"])
        XCTAssertEqual(seen.values("X-Forwarded-Host"), ["a.example.com:\(gateway.port)"])
        XCTAssertEqual(seen.values("X-Forwarded-For"), ["203.0.113.9, 127.0.0.1"])
        XCTAssertTrue(accessLines.last?.contains("\"client\":\"127.0.0.1\"") == true, gateway.stdout)
    }

    /// `https://` upstreams through libcurl: one TLS connection serves many requests (the
    /// TLS gateway in front of the recording upstream counts its handshakes), and the upstream
    /// certificate must name the URL's host (`https://127.0.0.1` with a `localhost`
    /// certificate is a 502).
    func testHTTPSUpstreamsReuseConnectionsAndVerifyTheHostName() throws {
        try start(config(tls: "    certificate: \(pki.path("localhost.pem"))\n    private_key: \(pki.path("localhost.key"))"))
        let tlsUpstream = gateway!
        func front(_ url: String) throws -> GatewayProcess {
            try GatewayProcess(config: """
                listen: {address: 127.0.0.1:0}
                upstreams:
                  secure: {url: "\(url)", tls: {ca_file: \(pki.path("ca.pem"))}}
                routes:
                  - {name: all, match: {path_prefix: /}, upstream: secure, auth: public}
                """)
        }
        let verified = try front("https://localhost:\(tlsUpstream.port)")
        defer { verified.stop() }
        for _ in 0..<10 {
            let c = try RawHTTPClient(port: verified.port)
            try c.send("GET /status HTTP/1.1\r\nHost: api.test\r\n\r\n")
            XCTAssertEqual(try c.readResponse().status, 200)
        }
        XCTAssertEqual(upstream.requests.count, 10)
        // The front gateway runs two loops, each with its own libcurl connection pool: ten
        // requests on new client connections (round robin) use one upstream TLS connection per loop.
        XCTAssertEqual(try handshakes("ok", version: "TLSv1.3"), 2)

        let mismatched = try front("https://127.0.0.1:\(tlsUpstream.port)")
        defer { mismatched.stop() }
        let c = try RawHTTPClient(port: mismatched.port)
        try c.send("GET /status HTTP/1.1\r\nHost: api.test\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 502)
        XCTAssertEqual(upstream.requests.count, 10)
    }
}
