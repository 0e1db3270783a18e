import Foundation
import GatewayJOSE

/// The JOSE test vectors under Tests/Fixtures/vectors (see the README there).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/vectors")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    struct Vector: Decodable {
        var name: String
        var token: String
        var expect: String
        var reason: String
        var issuer: String
    }

    struct Vectors: Decodable {
        var issuer: String
        var audience: String
        var tokens: [Vector]
    }

    static func vectors() throws -> Vectors {
        try JSONDecoder().decode(Vectors.self, from: Data(try bytes("tokens.json")))
    }

    static let issuer = "https://issuer.test.example/"
    static let audience = "orders-api"

    static let jwksAlgorithms: Set<JWSAlgorithm> = [.RS256, .RS384, .RS512, .PS256, .PS384, .PS512, .ES256, .ES384, .ES512, .EdDSA]
    static let hmacAlgorithms: Set<JWSAlgorithm> = [.HS256, .HS384, .HS512]

    static func jwksKeySet() throws -> KeySet { try KeySet.jwkSet(json: try bytes("jwks.json")) }

    static func hmacSecret() throws -> [UInt8] {
        let text = String(decoding: try bytes("hmac.secret"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let secret = Base64URL.decode(Substring(text)) else { throw FixtureError.badSecret }
        return secret
    }

    static func hmacKeySet() throws -> KeySet {
        try KeySet.hmacSecret(try hmacSecret(), keyID: nil, algorithms: Array(hmacAlgorithms))
    }

    static func requirements(_ algorithms: Set<JWSAlgorithm>) -> TokenRequirements {
        TokenRequirements(issuer: issuer, audiences: [audience], algorithms: algorithms, clockSkew: 30, requireExp: true)
    }

    enum FixtureError: Error { case badSecret }

    static var now: Double { Date().timeIntervalSince1970 }
}

/// The `TokenError` a throwing call produced, nil when it returned (a different error
/// type also gives nil, which the callers' equality assertions then report).
func tokenError(_ body: () throws -> Void) -> TokenError? {
    do { try body(); return nil } catch { return error as? TokenError }
}

/// The `KeyLoadError` a throwing call produced, nil when it returned.
func keyLoadError(_ body: () throws -> Void) -> KeyLoadError? {
    do { try body(); return nil } catch { return error as? KeyLoadError }
}
