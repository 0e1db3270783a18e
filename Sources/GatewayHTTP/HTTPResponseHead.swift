/// A response head to serialise (status line + fields + CRLF, RFC 9112 §4).
public struct HTTPResponseHead: Sendable, Equatable {
    /// Three-digit status code (RFC 9110 §15).
    public var status: Int
    public var fields: [HTTPField]
    public var version: HTTPVersion
    public init(status: Int, fields: [HTTPField], version: HTTPVersion = .http11) {
        self.status = status
        self.fields = fields
        self.version = version
    }

    /// Wire bytes: "HTTP/1.1 200 OK\r\n" + "Name: value\r\n"... + "\r\n".
    ///
    /// Fails closed against header injection: a field whose name is not a token or whose
    /// value is not a valid field value (`HTTPSyntax.isValidFieldValue`: e.g. holding CR,
    /// LF or NUL) is left out rather than written. A status outside 100...999 is written
    /// as 500. An unknown status gets an empty reason phrase ("HTTP/1.1 299 \r\n").
    public func serialized() -> [UInt8] {
        let code = (100...999).contains(status) ? status : 500
        var out: [UInt8] = []
        out.reserveCapacity(64 + fields.count * 32)
        out.append(contentsOf: version.text.utf8)
        out.append(0x20)
        out.append(contentsOf: String(code).utf8)
        out.append(0x20)
        out.append(contentsOf: Self.reasonPhrase(code).utf8)
        out.append(0x0D); out.append(0x0A)
        for field in fields
        where HTTPSyntax.isValidFieldName(field.name) && HTTPSyntax.isValidFieldValue(field.value) {
            out.append(contentsOf: field.name.utf8)
            out.append(UInt8(ascii: ":")); out.append(0x20)
            out.append(contentsOf: field.value.utf8)
            out.append(0x0D); out.append(0x0A)
        }
        out.append(0x0D); out.append(0x0A)
        return out
    }

    /// The standard reason phrase for `status` (RFC 9110 §15, RFC 6585), or "" when unknown.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 305: "Use Proxy"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}
