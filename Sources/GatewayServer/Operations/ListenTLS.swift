import GatewayPolicy
import GatewayTLS

/// `listen.tls` and `decision.tls` (the same block) as the TLS layer takes them: the
/// configuration, and the context a start or a reload builds from it (reading and checking
/// every certificate, key and CA file).
public enum ListenTLS {
    public static func configuration(_ tls: ListenTLSConfig) -> TLSServerConfiguration {
        TLSServerConfiguration(
            certificates: tls.certificates.map { .init(certificate: $0.certificate, privateKey: $0.privateKey) },
            minimumVersion: tls.minVersion == "1.3" ? .tls13 : .tls12,
            clientCAFile: tls.clientCAFile,
            clientCertificate: tls.clientCertificate == "required" ? .required : .optional)
    }

    /// The TLS context for `config`'s proxy listener; nil without `listen.tls` (plain HTTP).
    /// - Throws: `ConfigErrors` as `context(for:)`.
    public static func context(_ config: GatewayConfig) throws(ConfigErrors) -> TLSServerContext? {
        try context(for: config.listenTLS)
    }

    /// The TLS context for `config`'s decision listener; nil without `decision.tls`.
    /// - Throws: `ConfigErrors` as `context(for:)`.
    public static func decisionContext(_ config: GatewayConfig) throws(ConfigErrors) -> TLSServerContext? {
        try context(for: config.decisionTLS)
    }

    /// The TLS context for one listener's `tls` block; nil without one (plain HTTP).
    /// - Throws: `ConfigErrors` with one error at the certificate pair (or the `tls` key) whose
    ///   file failed: unreadable, not PEM, a key that does not match its certificate. The
    ///   message names the file and OpenSSL's reason, never key material.
    public static func context(for tls: ListenTLSConfig?) throws(ConfigErrors) -> TLSServerContext? {
        guard let tls else { return nil }
        do {
            return try TLSServerContext(configuration: configuration(tls))
        } catch {
            let pair = tls.certificates.first { $0.certificate == error.file || $0.privateKey == error.file }
            throw ConfigErrors([ConfigError(location: pair?.location ?? tls.location, message: error.description)])
        }
    }
}
