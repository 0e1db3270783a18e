/// `listen.tls:` — HTTPS on the listener. File paths are resolved against the config
/// file's directory; the files themselves are read when the TLS context is built
/// (`gateway check`, `serve`, reload), not here.
public struct ListenTLSConfig: Sendable, Equatable {
    /// One certificate chain (PEM, leaf first) and its private key (PEM, unencrypted).
    public struct CertificatePair: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String
        /// Where the pair is written, for errors about its files.
        public var location: ConfigLocation
        public init(certificate: String, privateKey: String, location: ConfigLocation) {
            self.certificate = certificate
            self.privateKey = privateKey
            self.location = location
        }
    }

    /// `certificate`/`private_key`, or every `certificates` entry in order; the first is the
    /// default (no SNI, or no certificate names the server name). Never empty.
    public var certificates: [CertificatePair]
    /// `min_version`: "1.2" (default) or "1.3".
    public var minVersion: String = "1.2"
    /// `client_ca_file`: ask clients for a certificate and verify it against this bundle.
    public var clientCAFile: String?
    /// `client_certificate`: "optional" (default with a CA file) or "required".
    public var clientCertificate: String = "optional"
    /// Where `listen.tls` is written.
    public var location: ConfigLocation

    public init(certificates: [CertificatePair], location: ConfigLocation) {
        self.certificates = certificates
        self.location = location
    }
}
