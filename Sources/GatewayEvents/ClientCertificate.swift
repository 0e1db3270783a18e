/// A verified client certificate (mutual TLS).
public struct ClientCertificate: Sendable, Equatable {
    /// The subject as an RFC 4514 string.
    public var subject: String
    /// SHA-256 of the DER certificate (RFC 8705 §3.1 `x5t#S256`).
    public var sha256: [UInt8]

    public init(subject: String, sha256: [UInt8]) {
        self.subject = subject
        self.sha256 = sha256
    }
}
