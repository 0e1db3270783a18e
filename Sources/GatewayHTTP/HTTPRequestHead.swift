/// A parsed, validated request head.
public struct HTTPRequestHead: Sendable, Equatable {
    /// Method token, case-sensitive (RFC 9110 §9.1).
    public var method: String
    /// The request-target exactly as sent (RFC 9112 §3.2).
    public var target: String
    public var version: HTTPVersion
    /// All header fields in arrival order.
    public var fields: [HTTPField]
    public var framing: RequestBodyFraming
    /// Whether the connection may be reused after this exchange (version default + `Connection`).
    public var keepAlive: Bool
    /// `Expect: 100-continue` was sent (RFC 9110 §10.1.1). Always false for HTTP/1.0,
    /// whose expectation a server must ignore.
    public var expectsContinue: Bool

    public init(method: String, target: String, version: HTTPVersion, fields: [HTTPField],
                framing: RequestBodyFraming, keepAlive: Bool, expectsContinue: Bool) {
        self.method = method
        self.target = target
        self.version = version
        self.fields = fields
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }

    /// Values of every field named `name` (ASCII case-insensitive, RFC 9110 §5.1), in order.
    public func values(_ name: String) -> [String] {
        fields.filter { HTTPSyntax.equalsIgnoringASCIICase($0.name, name) }.map(\.value)
    }
}
