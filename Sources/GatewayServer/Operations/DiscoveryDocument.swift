import GatewayJOSE
import GatewayPolicy

/// The parts of an OpenID Provider configuration document (OpenID Connect Discovery 1.0 §3,
/// RFC 8414 §2) the gateway uses. Pure: parses bytes fetched by `JWKSService`.
enum DiscoveryDocument {
    /// The `jwks_uri` of `body` after the checks that make it safe to use.
    ///
    /// - `issuer` must equal `expectedIssuer` byte for byte (RFC 8414 §3.3, OpenID Connect
    ///   Discovery 1.0 §4.3): a document naming another issuer is refused, so a token of one
    ///   identity provider can never be verified with another's keys (mix-up).
    /// - `jwks_uri` must be present, a string, and pass the `jwks_url` rule (https, or http
    ///   to a loopback host only).
    /// - Returns: the JWK Set URL, or a one-line reason (never key material; document values
    ///   are quoted only when short and printable).
    static func jwksURI(_ body: [UInt8], expectedIssuer: String) -> Result<String, JWKSFetchError> {
        let doc: JSONValue
        do { doc = try JSONReader.parse(body) } catch {
            return .failure(.invalid("discovery document is not valid JSON (strict RFC 8259, duplicate members refused)"))
        }
        guard case .object = doc else { return .failure(.invalid("discovery document is not a JSON object")) }
        guard case .string(let issuer)? = doc[member: "issuer"] else {
            return .failure(.invalid("discovery document has no \"issuer\" string"))
        }
        guard issuer.exactlyEquals(expectedIssuer) else {
            return .failure(.invalid("discovery document names issuer \(shown(issuer)), not the configured \(shown(expectedIssuer)) (mix-up protection, RFC 8414 §3.3)"))
        }
        guard let member = doc[member: "jwks_uri"] else {
            return .failure(.invalid("discovery document has no \"jwks_uri\""))
        }
        guard case .string(let uri) = member else {
            return .failure(.invalid("discovery document's \"jwks_uri\" is not a string"))
        }
        if let why = RemoteKeyURL.problem(uri) {
            return .failure(.invalid("discovery document's jwks_uri \(shown(uri)) is refused: \(why)"))
        }
        return .success(uri)
    }

    /// `text` in backquotes when short and printable ASCII, else a placeholder.
    static func shown(_ text: String) -> String {
        guard text.utf8.count <= 200, text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x60 }) else {
            return "(a value not shown: long or not printable)"
        }
        return "`" + text + "`"
    }
}
