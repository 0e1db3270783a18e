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
        var size = 9 + 4 + 24 + 2 + 2
        for field in fields { size += field.withNameBytes { $0.count } + field.valueByteCount + 4 }
        out.reserveCapacity(size)
        out.append(contentsOf: version.text.utf8)
        out.append(0x20)
        out.append(UInt8(0x30 + code / 100))
        out.append(UInt8(0x30 + code / 10 % 10))
        out.append(UInt8(0x30 + code % 10))
        out.append(0x20)
        Self.appendReasonPhrase(code, to: &out)
        out.append(0x0D); out.append(0x0A)
        for field in fields {
            // Bytes straight from the field (no String for a parsed one), checked as written.
            field.withNameBytes { name in
                guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTokenChar) else { return }
                field.withValueBytes { value in
                    if let first = value.first, let last = value.last,
                       first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 {
                        return
                    }
                    guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else { return }
                    out.append(contentsOf: name.assumingMemoryBound(to: UInt8.self))
                    out.append(UInt8(ascii: ":")); out.append(0x20)
                    out.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
                    out.append(0x0D); out.append(0x0A)
                }
            }
        }
        out.append(0x0D); out.append(0x0A)
        return out
    }

    private static func appendReasonPhrase(_ code: Int, to out: inout [UInt8]) {
        if code == 200 {
            out.append(0x4F); out.append(0x4B)  // "OK", the common case without a String
            return
        }
        out.append(contentsOf: reasonPhrase(code).utf8)
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
