/// JSON Web Key parsing (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
enum JWK {
    /// `kid` for warning lines, only when short printable ASCII (it comes from a remote document).
    static func printableKeyID(_ jwk: JSONValue) -> String {
        guard case .string(let kid)? = jwk[member: "kid"], isPrintable(kid) else { return "" }
        return " (kid \"\(kid)\")"
    }

    /// Whether a key ID may appear in a warning line: at most 64 printable ASCII characters, no `"`.
    static func isPrintable(_ kid: String) -> Bool {
        kid.utf8.count <= 64 && kid.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }
    }

    private static func string(_ jwk: JSONValue, _ name: String) throws(KeyLoadError) -> String? {
        guard let v = jwk[member: name] else { return nil }
        guard case .string(let s) = v else { throw KeyLoadError.invalid("\"\(name)\" is not a string") }
        return s
    }

    private static func bytes(_ jwk: JSONValue, _ name: String) throws(KeyLoadError) -> [UInt8] {
        guard let s = try string(jwk, name) else { throw KeyLoadError.invalid("\"\(name)\" missing") }
        guard let b = Base64URL.decode(Substring(s)) else { throw KeyLoadError.invalid("\"\(name)\" is not base64url") }
        return b
    }

    /// One JWK → a verification key, or `KeyLoadError` saying why it is unusable.
    static func verificationKey(_ jwk: JSONValue) throws(KeyLoadError) -> VerificationKey {
        guard case .object = jwk else { throw KeyLoadError.invalid("not a JSON object") }
        guard let kty = try string(jwk, "kty") else { throw KeyLoadError.invalid("\"kty\" missing") }
        let kid = try string(jwk, "kid")

        // RFC 7517 §4.2: `use` "sig" or absent; §4.3: `key_ops` must allow "verify".
        var usable = true
        if let use = try string(jwk, "use"), use != "sig" { usable = false }
        if let ops = jwk[member: "key_ops"] {
            guard case .array(let items) = ops else { throw KeyLoadError.invalid("\"key_ops\" is not an array") }
            var names: [String] = []
            for item in items {
                guard case .string(let op) = item else { throw KeyLoadError.invalid("\"key_ops\" holds a non-string") }
                names.append(op)
            }
            if !names.contains("verify") { usable = false }
        }
        // RFC 7517 §4.4: `alg` restricts the key to one algorithm.
        var restricted: JWSAlgorithm?? = nil
        if let alg = try string(jwk, "alg") { restricted = .some(JWSAlgorithm(rawValue: alg)) }

        let material: VerificationKey.Material
        switch kty {
        case "RSA":
            try refusePrivate(jwk, ["d", "p", "q", "dp", "dq", "qi", "oth"])
            material = .rsa(try KeyImport.rsaPublic(n: try bytes(jwk, "n"), e: try bytes(jwk, "e")))
        case "EC":
            try refusePrivate(jwk, ["d"])
            guard let crv = try string(jwk, "crv") else { throw KeyLoadError.invalid("\"crv\" missing") }
            guard let curve = ECCurve(jwkName: crv) else { throw KeyLoadError.invalid("EC curve not supported (P-256, P-384, P-521)") }
            material = .ec(try KeyImport.ecPublic(curve: curve, x: try bytes(jwk, "x"), y: try bytes(jwk, "y")), curve)
        case "OKP":
            try refusePrivate(jwk, ["d"])
            guard try string(jwk, "crv") == "Ed25519" else { throw KeyLoadError.invalid("OKP curve not supported (Ed25519 only)") }
            material = .ed25519(try KeyImport.ed25519Public(x: try bytes(jwk, "x")))
        case "oct":
            let k = try bytes(jwk, "k")
            guard !k.isEmpty else { throw KeyLoadError.invalid("\"k\" is empty") }
            material = .secret(k)
        default:
            throw KeyLoadError.invalid("kty not supported")
        }
        return VerificationKey(keyID: kid, material: material, usableForVerification: usable, restrictedAlgorithm: restricted)
    }

    private static func refusePrivate(_ jwk: JSONValue, _ names: [String]) throws(KeyLoadError) {
        for n in names where jwk[member: n] != nil {
            throw KeyLoadError.invalid("holds private key member \"\(n)\"; a JWK Set for verification must be public")
        }
    }
}
