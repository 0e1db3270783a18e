// INTERFACE STUB — the GatewayHTTP owner replaces the bodies (and may split files),
// keeping these public names and shapes (adding is fine).

/// HTTP protocol version of a request (RFC 9112 §2.3). Only 1.0 and 1.1 are served.
public enum HTTPVersion: Sendable, Equatable {
    case http10
    case http11
}

/// One header field as received: name with its original case, value with
/// surrounding whitespace removed (RFC 9110 §5.5).
public struct HTTPField: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// How the request body is delimited (RFC 9112 §6.3).
public enum RequestBodyFraming: Sendable, Equatable {
    /// No body.
    case none
    /// `Content-Length: n`, n > 0.
    case contentLength(UInt64)
    /// `Transfer-Encoding: chunked`.
    case chunked
}

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
    /// `Expect: 100-continue` was sent (RFC 9110 §10.1.1).
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

    /// Values of every field named `name` (ASCII case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

/// Limits the parser enforces.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Request line + header fields + CRLFs, bytes. Over it: 431 (or 414 for the request line).
    public var maxHeaderBytes: Int
    /// Request line alone, bytes. Over it: 414.
    public var maxRequestLineBytes: Int
    public init(maxHeaderBytes: Int = 16 * 1024, maxRequestLineBytes: Int = 8 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxRequestLineBytes = maxRequestLineBytes
    }
}

/// Why a request was refused by the parser. Every case closes the connection.
public enum HTTPParseError: Error, Sendable, Equatable {
    /// 400, with a short reason for the JSON body / log (never echoing client bytes).
    case badRequest(String)
    /// 431 Request Header Fields Too Large (RFC 6585 §5).
    case headerTooLarge
    /// 414 URI Too Long.
    case uriTooLong
    /// 505 HTTP Version Not Supported.
    case versionNotSupported
    /// 501 Not Implemented (e.g. a transfer coding other than chunked, when not 400).
    case notImplemented(String)

    /// The status code this refusal is answered with.
    public var status: Int {
        switch self {
        case .badRequest: 400
        case .headerTooLarge: 431
        case .uriTooLong: 414
        case .versionNotSupported: 505
        case .notImplemented: 501
        }
    }

    /// Short, fixed description (safe to log and to send).
    public var reason: String {
        switch self {
        case .badRequest(let r): r
        case .headerTooLarge: "request header too large"
        case .uriTooLong: "request line too long"
        case .versionNotSupported: "HTTP version not supported"
        case .notImplemented(let r): r
        }
    }
}

/// What the parser found.
public enum HTTPParserEvent: Sendable, Equatable {
    /// A complete request head. For `.none` framing, `.end` follows immediately on the next call.
    case head(HTTPRequestHead)
    /// Body bytes: this range of the input passed to `parse` (already de-chunked).
    case body(Range<Int>)
    /// The request (head and body) is complete; the parser is ready for the next request.
    case end
}

/// Incremental, strict HTTP/1.1 request parser (RFC 9112). Bytes in, events out.
///
/// Contract: call `parse(input)` with the bytes not yet consumed; it returns at most one
/// event and how many bytes of `input` it consumed. Drop the consumed prefix and call
/// again while `consumed > 0 || event != nil`; when both are empty it needs more bytes.
/// A head is only returned once complete (the caller keeps the partial head buffered;
/// the parser refuses with 431/414 once the buffered head exceeds the limits).
public struct HTTPRequestParser: Sendable {
    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        fatalError("unimplemented")
    }

    /// - Throws: `HTTPParseError`; after an error the parser must not be used again.
    public mutating func parse(_ input: UnsafeRawBufferPointer) throws(HTTPParseError) -> (event: HTTPParserEvent?, consumed: Int) {
        fatalError("unimplemented")
    }
}

/// A request path after SPEC §4 normalisation.
public struct NormalizedTarget: Sendable, Equatable {
    /// Normalised absolute path, starting with "/".
    public var path: String
    /// Query string without the "?", exactly as sent; nil when the target had no "?".
    public var query: String?
    public init(path: String, query: String?) {
        self.path = path
        self.query = query
    }
}

/// Why a request-target was refused (always 400).
public enum PathError: Error, Sendable, Equatable {
    case invalid(String)
}

/// Path normalisation (SPEC §4, RFC 3986 §5.2.4).
public enum PathNormalizer {
    /// Normalises an origin-form request-target ("/a/b?q").
    /// - Throws: `PathError` for `%2F`, `%5C`, `%00`, raw `\`, `;`, `#`, bad percent-encoding,
    ///   escaping above the root, or a target that is not origin-form.
    public static func normalize(_ target: String) throws(PathError) -> NormalizedTarget {
        fatalError("unimplemented")
    }
}

/// Hop-by-hop header handling (RFC 9110 §7.6.1).
public enum HopByHop {
    /// Removes `Connection`, every field it names, and `Keep-Alive`, `Proxy-Connection`,
    /// `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade` (case-insensitive).
    public static func removing(from fields: [HTTPField]) -> [HTTPField] {
        fatalError("unimplemented")
    }
}

/// A response head to serialise (status line + fields + CRLF).
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    public var fields: [HTTPField]
    public var version: HTTPVersion
    public init(status: Int, fields: [HTTPField], version: HTTPVersion = .http11) {
        self.status = status
        self.fields = fields
        self.version = version
    }

    /// Wire bytes: "HTTP/1.1 200 OK\r\n" + "Name: value\r\n"... + "\r\n".
    public func serialized() -> [UInt8] {
        fatalError("unimplemented")
    }

    /// The standard reason phrase for `status` (RFC 9110 §15), or "" when unknown.
    public static func reasonPhrase(_ status: Int) -> String {
        fatalError("unimplemented")
    }
}
