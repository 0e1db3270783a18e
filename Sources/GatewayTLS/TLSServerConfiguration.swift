/// What a `TLSServerContext` is built from (the `listen.tls` section, file paths resolved).
public struct TLSServerConfiguration: Sendable, Equatable {
    /// One certificate (PEM, leaf first, then intermediates) with its private key (PEM,
    /// PKCS#8, RSA or EC, unencrypted).
    public struct CertificateFiles: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String
        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    /// Lowest protocol version accepted (the highest is always TLS 1.3).
    public enum MinimumVersion: String, Sendable, Equatable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// Whether a client must present a certificate (only with a client CA file).
    public enum ClientCertificateMode: String, Sendable, Equatable {
        /// Asked for; a client without one still connects (a presented but invalid one fails).
        case optional
        /// A client without a valid certificate fails the handshake.
        case required
    }

    /// Chosen by SNI; the first is the default. Never empty.
    public var certificates: [CertificateFiles]
    public var minimumVersion: MinimumVersion = .tls12
    /// PEM bundle of the CAs client certificates must chain to; nil: no client certificates asked.
    public var clientCAFile: String?
    public var clientCertificate: ClientCertificateMode = .optional

    public init(certificates: [CertificateFiles], minimumVersion: MinimumVersion = .tls12,
                clientCAFile: String? = nil, clientCertificate: ClientCertificateMode = .optional) {
        self.certificates = certificates
        self.minimumVersion = minimumVersion
        self.clientCAFile = clientCAFile
        self.clientCertificate = clientCertificate
    }
}
