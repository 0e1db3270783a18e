import Foundation
import GatewayTestSupport
import XCTest

/// `gateway check` on a config with `listen.tls`, and `gateway serve` refusing a certificate
/// and key that do not match. Certificates are made with the `openssl` command line.
final class TLSCheckCommandTests: XCTestCase {
    func run(_ args: [String], in dir: String) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0] == "gateway" ? GatewayProcess.binaryPath : "/usr/bin/env")
        p.arguments = args[0] == "gateway" ? Array(args.dropFirst()) : args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// A self-signed P-256 certificate for `name`, valid `days` days (negative: expired).
    func certificate(_ file: String, name: String, days: Int, in dir: String) throws {
        let csr = try run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-keyout", "\(file).key", "-out", "\(file).csr", "-subj", "/CN=\(name)"], in: dir)
        XCTAssertEqual(csr.status, 0, csr.err)
        try "subjectAltName=DNS:\(name)\n".write(toFile: "\(dir)/\(file).ext", atomically: true, encoding: .utf8)
        // `x509 -req` (unlike `req -x509`) takes a negative -days: an already expired certificate.
        let r = try run(["openssl", "x509", "-req", "-in", "\(file).csr", "-signkey", "\(file).key", "-days", String(days),
                         "-extfile", "\(file).ext", "-out", "\(file).pem"], in: dir)
        XCTAssertEqual(r.status, 0, r.err)
    }

    func testCheckReportsCertificateProblemsAndServeRefusesAMismatchedPair() throws {
        let dir = NSTemporaryDirectory() + "gw-tls-check-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try certificate("good", name: "good.example.com", days: 60, in: dir)
        try certificate("soon", name: "soon.example.com", days: 3, in: dir)
        try certificate("old", name: "old.example.com", days: -1, in: dir)
        let tail = """
            upstreams: {u: {url: "http://127.0.0.1:9"}}
            routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
            """
        let path = dir + "/gateway.yml"
        try """
            listen:
              address: 127.0.0.1:0
              tls:
                certificates:
                  - {certificate: good.pem, private_key: good.key}
                  - {certificate: soon.pem, private_key: soon.key}
                  - {certificate: old.pem, private_key: old.key}
                  - {certificate: good.pem, private_key: soon.key}
            \(tail)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try run(["gateway", "check", "--config", path], in: dir)
        XCTAssertEqual(bad.status, 1, bad.out)
        let lines = bad.err.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, bad.err)
        XCTAssertTrue(lines[0].hasPrefix("\(path):6:9: warning: certificate \(dir)/soon.pem (names: soon.example.com) expires on "), bad.err)
        XCTAssertTrue(lines[1].hasPrefix("\(path):7:9: certificate \(dir)/old.pem (names: old.example.com) expired on "), bad.err)
        XCTAssertEqual(lines[2], "\(path):8:9: \(dir)/soon.key: private key does not match the certificate \(dir)/good.pem")
        XCTAssertFalse(bad.err.contains("PRIVATE KEY"))

        try """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: good.pem, private_key: good.key}
            \(tail)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let good = try run(["gateway", "check", "--config", path], in: dir)
        XCTAssertEqual(good.status, 0, good.err)
        XCTAssertEqual(good.err, "")
        // A key that does not match its certificate refuses the start, naming the file.
        try """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: good.pem, private_key: soon.key}
            admin: {address: 127.0.0.1:0}
            \(tail)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let serve = try run(["gateway", "serve", "--config", path], in: dir)
        XCTAssertEqual(serve.status, 1, serve.out)
        XCTAssertTrue(serve.err.hasPrefix("\(path):3:"), serve.err)
        XCTAssertTrue(serve.err.contains("\(dir)/soon.key"), serve.err)
        XCTAssertFalse(serve.err.contains("PRIVATE KEY"))
    }
}
