/// Why a TLS server context cannot be built: a file that cannot be read or parsed, a key
/// that does not match its certificate, or an OpenSSL setting refused. The message names
/// the file and carries OpenSSL reason strings only, never key material.
public struct TLSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file concerned (certificate, private key or client CA bundle), if any.
    public var file: String?
    public var message: String

    public init(file: String?, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { file.map { "\($0): \(message)" } ?? message }
}
