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
    /// Names are compared as bytes; a String is built only for each matching value.
    public func values(_ name: String) -> [String] {
        HTTPField.withUTF8(name) { wanted in
            var out: [String] = []
            for f in fields where f.withNameBytes({ HTTPSyntax.equalsIgnoringASCIICase($0, wanted) }) {
                out.append(f.value)
            }
            return out
        }
    }

    /// The value of the first field named `name` (ASCII case-insensitive), or nil.
    public func firstValue(_ name: String) -> String? {
        firstIndex(of: name).map { fields[$0].value }
    }

    /// The index in `fields` of the first field named `name` (ASCII case-insensitive), or nil.
    public func firstIndex(of name: String) -> Int? {
        HTTPField.withUTF8(name) { wanted in
            fields.firstIndex { f in f.withNameBytes { HTTPSyntax.equalsIgnoringASCIICase($0, wanted) } }
        }
    }

    /// How many fields are named `name` (ASCII case-insensitive).
    public func count(of name: String) -> Int {
        HTTPField.withUTF8(name) { wanted in
            var n = 0
            for f in fields where f.withNameBytes({ HTTPSyntax.equalsIgnoringASCIICase($0, wanted) }) { n += 1 }
            return n
        }
    }
}
