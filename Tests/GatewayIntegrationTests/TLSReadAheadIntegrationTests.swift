import Foundation
import GatewayTestSupport
import XCTest

/// TLS records read ahead: OpenSSL takes a whole flight off the socket at once, so requests
/// and body bytes can wait inside the TLS layer while the socket is empty. The gateway must
/// read them without a readiness event.
final class TLSReadAheadIntegrationTests: HTTPSTestCase {
    func testPipelinedRequestsInOneFlightAreAllAnswered() throws {
        try start(config())
        // The TLS layer runs over memory buffers so that five records (one request each) go
        // out in a single write on the socket: they arrive together, in one read.
        let script = """
            import socket, ssl, sys, time
            ctx = ssl.create_default_context(cafile="ca.pem")
            raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = ctx.wrap_bio(incoming, outgoing, server_hostname="a.example.com")
            def pump():
                data = outgoing.read()
                if data:
                    raw.sendall(data)
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    pump()
                    chunk = raw.recv(65536)
                    if not chunk:
                        sys.exit("closed during the handshake")
                    incoming.write(chunk)
            pump()
            one = b"GET /status HTTP/1.1\\r\\nHost: a.example.com\\r\\n\\r\\n"
            for _ in range(5):
                tls.write(one)
            raw.sendall(outgoing.read())
            raw.settimeout(10)
            data = b""
            deadline = time.time() + 10
            while data.count(b"HTTP/1.1 200") < 5 and time.time() < deadline:
                try:
                    data += tls.read(65536)
                    continue
                except ssl.SSLWantReadError:
                    pass
                try:
                    chunk = raw.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                incoming.write(chunk)
            print("responses", data.count(b"HTTP/1.1 200"))
            """
        let (exit, output) = try python(script, [String(gateway.port)])
        XCTAssertEqual(exit, 0, output)
        XCTAssertTrue(output.contains("responses 5"), output)
        XCTAssertEqual(upstream.requests.count, 5)
    }

    func testALargeBodySentInOneFlightArrivesWhole() throws {
        try start(config())
        let length = 3 << 20
        let script = """
            import socket, ssl, sys
            ctx = ssl.create_default_context(cafile="ca.pem")
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="a.example.com")
            n = int(sys.argv[2])
            body = bytes((i * 7) % 251 for i in range(n))
            s.sendall(b"POST /status HTTP/1.1\\r\\nHost: a.example.com\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n" % n + body)
            s.settimeout(20)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            print(data.split(b"\\r\\n")[0].decode())
            """
        let (exit, output) = try python(script, [String(gateway.port), String(length)])
        XCTAssertEqual(exit, 0, output)
        XCTAssertTrue(output.contains("HTTP/1.1 200"), output)
        let received = try XCTUnwrap(upstream.requests.first)
        XCTAssertEqual(received.body.count, length)
        XCTAssertEqual(received.body, (0..<length).map { UInt8(($0 * 7) % 251) })
    }
}
