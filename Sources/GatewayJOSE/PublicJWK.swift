/// Public JWKs (RFC 7517 §4) of PEM keys, for publishing a JWK Set (`gateway jwks`).
public enum PublicJWK {
    /// The public JWK of one PEM key: an SPKI public key, or a private key (PKCS#8 or
    /// traditional) of which only the public half is written. RSA ≥ 2048 bits, EC
    /// P-256/384/521, Ed25519. Never holds a private member (`d`, `p`, `q`...).
    /// - Parameter keyID: the `kid` member; absent when nil.
    /// - Throws: `KeyLoadError` when the PEM is not one supported key (a certificate,
    ///   several blocks, an encrypted key...).
    public static func fromPEM(_ pem: [UInt8], keyID: String?) throws(KeyLoadError) -> JSONValue {
        let labels = KeyImport.pemLabels(pem)
        let jwk: JSONValue?
        if labels.count == 1, labels[0].hasSuffix("PRIVATE KEY") {
            jwk = try SigningKey.privateKeyPEM(pem).publicJWK(keyID: keyID, algorithm: nil)
        } else {
            let key = try KeySet.publicKeyPEM(pem, keyID: keyID).keys[0]
            jwk = SigningKey(material: key.material).publicJWK(keyID: keyID, algorithm: nil)
        }
        guard let jwk else { throw KeyLoadError.invalid("the key's public parameters cannot be read") }
        return jwk
    }
}
