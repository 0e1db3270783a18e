/// What a finished TLS handshake established, for the request decision.
public struct TransportSecurity: Sendable, Equatable {
    /// "TLSv1.3", "TLSv1.2".
    public var protocolVersion: String
    /// The SNI server name the client sent, lowercased; nil without SNI.
    public var serverName: String?
    /// DNS names of the certificate chosen by SNI (to answer 421 for other hosts).
    public var certificateNames: [String]
    /// The verified client certificate, if the client sent one.
    public var clientCertificate: ClientCertificate?
    /// Whether the session was resumed.
    public var resumed: Bool

    public init(protocolVersion: String, serverName: String?, certificateNames: [String],
                clientCertificate: ClientCertificate?, resumed: Bool) {
        self.protocolVersion = protocolVersion
        self.serverName = serverName
        self.certificateNames = certificateNames
        self.clientCertificate = clientCertificate
        self.resumed = resumed
    }
}
