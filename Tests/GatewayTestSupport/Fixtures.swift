import Foundation
import GatewayJOSE

/// Paths and contents of `Tests/Fixtures` (found from this source file, so a fresh clone
/// tests on its own): the one fixtures module of every test target. A missing or unreadable
/// file throws `FixtureError.missing` (never empty data, which would turn into a confusing
/// parse failure or, worse, a test of nothing).
public enum Fixtures {
    public static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// Why a fixture could not be read.
    public enum FixtureError: Error, Equatable, CustomStringConvertible {
        /// No readable file at this path (relative to `directory`).
        case missing(String)
        /// `vectors/hmac.secret` is not base64url.
        case badSecret

        public var description: String {
            switch self {
            case .missing(let path): "fixture file missing or unreadable: Tests/Fixtures/\(path)"
            case .badSecret: "Tests/Fixtures/vectors/hmac.secret is not base64url"
            }
        }
    }

    /// The UTF-8 text of `relative` (e.g. `vectors/jwks.json`).
    /// - Throws: `FixtureError.missing` when the file is absent, unreadable or not UTF-8.
    public static func text(_ relative: String) throws -> String {
        guard let text = try? String(contentsOfFile: directory + "/" + relative, encoding: .utf8) else {
            throw FixtureError.missing(relative)
        }
        return text
    }

    /// The bytes of `relative` (e.g. `vectors/keys/rsa-1.pem`).
    /// - Throws: `FixtureError.missing` when the file is absent or unreadable.
    public static func bytes(_ relative: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: directory + "/" + relative) else {
            throw FixtureError.missing(relative)
        }
        return Array(data)
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
        try JSONDecoder().decode(TokenVectors.self, from: Data(try bytes("vectors/tokens.json")))
    }

    /// A vector by name (crashes the test loudly when the file or the vector is missing).
    public static func token(_ name: String) -> String {
        let vectors: TokenVectors
        do { vectors = try tokenVectors() } catch { preconditionFailure("\(error)") }
        guard let v = vectors.tokens.first(where: { $0.name == name }) else {
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
        let key = try SigningKey.privateKeyPEM(try Fixtures.bytes("vectors/keys/rsa-1.pem"))
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

/// The JOSE vectors' issuer, audience, algorithms and key sets (see `Tests/Fixtures/README.md`).
extension Fixtures {
    public static let issuer = "https://issuer.test.example/"
    public static let audience = "orders-api"

    public static let jwksAlgorithms: Set<JWSAlgorithm> = [.RS256, .RS384, .RS512, .PS256, .PS384, .PS512, .ES256, .ES384, .ES512, .EdDSA]
    public static let hmacAlgorithms: Set<JWSAlgorithm> = [.HS256, .HS384, .HS512]

    /// The public keys of `vectors/jwks.json`.
    public static func jwksKeySet() throws -> KeySet { try KeySet.jwkSet(json: try bytes("vectors/jwks.json")) }

    /// The decoded `vectors/hmac.secret` (64 bytes).
    public static func hmacSecret() throws -> [UInt8] {
        let text = try Fixtures.text("vectors/hmac.secret").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let secret = Base64URL.decode(Substring(text)) else { throw FixtureError.badSecret }
        return secret
    }

    public static func hmacKeySet() throws -> KeySet {
        try KeySet.hmacSecret(try hmacSecret(), keyID: nil, algorithms: Array(hmacAlgorithms))
    }

    /// The vectors' issuer and audience, `exp` required, 30 s skew.
    public static func requirements(_ algorithms: Set<JWSAlgorithm>) -> TokenRequirements {
        TokenRequirements(issuer: issuer, audiences: [audience], algorithms: algorithms, clockSkew: 30, requireExp: true)
    }

    /// Seconds since the Unix epoch, now.
    public static var now: Double { Date().timeIntervalSince1970 }
}
