import Foundation
import GatewayJOSE

/// Paths and contents of `Tests/Fixtures` (found from this source file, so a fresh clone
/// tests on its own).
public enum Fixtures {
    public static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    public static func text(_ relative: String) -> String {
        (try? String(contentsOfFile: directory + "/" + relative, encoding: .utf8)) ?? ""
    }

    public static func bytes(_ relative: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: directory + "/" + relative) ?? Data())
    }

    /// One entry of `vectors/tokens.json`.
    public struct TokenVector: Decodable, Sendable {
        public var name: String
        public var token: String
        public var expect: String
        public var reason: String
        public var issuer: String
    }

    public struct TokenVectors: Decodable, Sendable {
        public var issuer: String
        public var audience: String
        public var tokens: [TokenVector]
    }

    public static func tokenVectors() throws -> TokenVectors {
        try JSONDecoder().decode(TokenVectors.self, from: Data(bytes("vectors/tokens.json")))
    }

    /// A vector by name (crashes the test loudly when missing).
    public static func token(_ name: String) -> String {
        guard let v = try? tokenVectors().tokens.first(where: { $0.name == name }) else {
            preconditionFailure("no token vector \(name)")
        }
        return v.token
    }
}

/// Mints tokens for tests with the vectors' private keys.
public enum TestTokens {
    public static let issuer = "https://issuer.test.example/"
    public static let audience = "orders-api"

    /// Signs `claims` with `vectors/keys/rsa-1.pem` (RS256, kid rsa-1). Defaults: iss, aud,
    /// sub user-42, iat now, exp now+1h; pass a claim to override, `nil` value to drop it.
    public static func rs256(_ overrides: [String: JSONValue?] = [:], kid: String? = "rsa-1") throws -> String {
        let key = try SigningKey.privateKeyPEM(Fixtures.bytes("vectors/keys/rsa-1.pem"))
        let now = Double(Int(Date().timeIntervalSince1970))
        var claims: [(String, JSONValue)] = [
            ("iss", .string(issuer)), ("aud", .string(audience)), ("sub", .string("user-42")),
            ("iat", .number(now)), ("exp", .number(now + 3600)),
        ]
        for (k, v) in overrides.sorted(by: { $0.key < $1.key }) {
            claims.removeAll { $0.0 == k }
            if let v { claims.append((k, v)) }
        }
        return try key.sign(claims: .object(claims), algorithm: .RS256, keyID: kid)
    }
}
