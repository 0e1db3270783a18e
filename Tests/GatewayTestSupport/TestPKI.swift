import Foundation

/// Certificates made for one test run with the `openssl` command line in a temporary
/// directory (never committed): a CA, server leaves with subjectAltNames (one wildcard),
/// client certificates (one from another CA, one expired) and an expired server leaf.
public final class TestPKI {
    public let directory: URL

    @discardableResult
    public static func run(_ arguments: [String], in directory: URL? = nil) throws -> String {
        try Subprocess.check(arguments, in: directory)
    }

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try makeCA("ca", subject: "/CN=Gateway Test CA")
        try makeCA("other-ca", subject: "/CN=Other CA")
        try makeLeaf("a", subject: "/CN=a.example.com", sans: ["a.example.com", "www.a.example.com"], usage: "serverAuth")
        try makeLeaf("wild", subject: "/CN=wildcard", sans: ["*.b.example.com"], usage: "serverAuth")
        try makeLeaf("localhost", subject: "/CN=localhost", sans: ["localhost"], usage: "serverAuth")
        try makeLeaf("expired", subject: "/CN=old.example.com", sans: ["old.example.com"], usage: "serverAuth", days: -1)
        try makeLeaf("soon", subject: "/CN=soon.example.com", sans: ["soon.example.com"], usage: "serverAuth", days: 5)
        try makeLeaf("client", subject: "/O=Example/CN=client one", sans: [], usage: "clientAuth")
        try makeLeaf("client-expired", subject: "/CN=old client", sans: [], usage: "clientAuth", days: -1)
        try makeLeaf("client-server-usage", subject: "/CN=server usage", sans: [], usage: "serverAuth")
        try makeLeaf("stranger", subject: "/CN=stranger", sans: [], usage: "clientAuth", ca: "other-ca")
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func makeCA(_ name: String, subject: String) throws {
        try Self.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "30", "-subj", subject,
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: directory)
    }

    /// `name.pem` / `name.key`, signed by `ca`, valid for `days` (negative: already expired).
    private func makeLeaf(_ name: String, subject: String, sans: [String], usage: String, days: Int = 30,
                          ca: String = "ca") throws {
        try Self.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject], in: directory)
        var ext = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=\(usage)\n"
        if !sans.isEmpty { ext += "subjectAltName=" + sans.map { "DNS:\($0)" }.joined(separator: ",") + "\n" }
        try ext.write(to: directory.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
        try Self.run(["openssl", "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key",
                      "-set_serial", String(Int.random(in: 1...1_000_000_000)), "-days", String(days),
                      "-out", "\(name).pem", "-extfile", "\(name).ext"], in: directory)
    }

    /// SHA-256 of the DER certificate in `name.pem`, from `openssl x509 -fingerprint`.
    public func fingerprint(_ name: String) throws -> [UInt8] {
        let text = try Self.run(["openssl", "x509", "-in", path("\(name).pem"), "-noout", "-fingerprint", "-sha256"])
        guard let hex = text.split(separator: "=").last else { return [] }
        return hex.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").compactMap { UInt8($0, radix: 16) }
    }
}
