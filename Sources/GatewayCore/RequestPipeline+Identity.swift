import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

// Stage 5 of `RequestPipeline.decide`: the verified identity as upstream header fields,
// built once per verified token (`VerifiedTokenFacts.identity`).
extension RequestPipeline {
    /// Identity header fields for a verified token (`identity` in docs/configuration.md), with
    /// its granted `scopes`. A value holding a control character refuses the request (401
    /// naming the claim).
    static func identityFields(_ token: VerifiedToken, issuer: LoadedIssuer, identity id: IdentityConfig, scopes: [String])
        -> Result<[HTTPField], DenialReason>
    {
        var out: [HTTPField] = []
        func add(_ header: String, _ claimName: String, _ text: HeaderText) -> DenialReason? {
            switch text {
            case .absent: return nil
            case .ambiguous: return .invalidToken(.unsafeClaim(claimName))
            case .value(let value):
                if !isSafeHeaderValue(value) { return .invalidToken(.unsafeClaim(claimName)) }
                out.append(HTTPField(name: header, value: value))
                return nil
            }
        }
        if let d = add(id.subjectHeader, "sub", headerText(token.claims[member: "sub"])) { return .failure(d) }
        if let d = add(id.issuerHeader, "iss", headerText(token.claims[member: "iss"])) { return .failure(d) }
        // The scopes header is space-separated: a scope (from an `scp` array) holding
        // whitespace would read upstream as several scopes.
        if scopes.contains(where: { $0.isEmpty || $0.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 }) }) {
            return .failure(.invalidToken(.unsafeClaim("scp")))
        }
        if !scopes.isEmpty, let d = add(id.scopesHeader, issuer.config.scopeClaim, .value(scopes.joined(separator: " "))) {
            return .failure(d)
        }
        for (claimName, header) in id.claims {
            if let d = add(header, claimName, headerText(token.claims[member: claimName])) { return .failure(d) }
        }
        return .success(out)
    }

    /// A claim as header text.
    enum HeaderText: Equatable {
        /// Absent, null or an object: no header.
        case absent
        case value(String)
        /// An array item holds "," (the list separator): the upstream could not tell items apart.
        case ambiguous
    }

    /// Claim value as header text: strings as is, numbers exactly as written in the token
    /// (integers as their digits, never in floating-point form), booleans, arrays of those
    /// joined by ","; objects and null give no header.
    static func headerText(_ v: JSONValue?) -> HeaderText {
        switch v {
        case .string(let s)?: return .value(s)
        case .number(let n)?: return .value(n.text)
        case .bool(let b)?: return .value(b ? "true" : "false")
        case .array(let items)?:
            var parts: [String] = []
            for item in items {
                switch item {
                case .array, .object, .null: continue
                default:
                    guard case .value(let text) = headerText(item) else { continue }
                    if text.utf8.contains(0x2C) { return .ambiguous }
                    parts.append(text)
                }
            }
            return parts.isEmpty ? .absent : .value(parts.joined(separator: ","))
        default: return .absent
        }
    }

    /// RFC 9110 §5.5 field-value that reaches the upstream unchanged: no control characters
    /// (HTAB included), and no leading or trailing whitespace (which every HTTP server trims,
    /// so `"admin "` would arrive as `admin`).
    static func isSafeHeaderValue(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { bytes in
            for b in bytes where b < 0x20 || b == 0x7F { return false }
            if let first = bytes.first, first == 0x20 { return false }
            if let last = bytes.last, last == 0x20 { return false }
            return true
        }
    }
}
