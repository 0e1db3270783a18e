import GatewayHTTP

/// The framing fields of one response head, checked as their lines are read
/// (RFC 9112 §6.1, §6.3; RFC 9110 §8.6): one `Content-Length` field of digits only (several
/// fields or a list, even of equal values, are refused: the gateway would pass on framing a
/// strict client reads differently), `Transfer-Encoding` must be a single `chunked`, and both at once is refused
/// (a response-splitting sign). Field names and `chunked` compare in ASCII case only.
///
/// Pure and allocation-free; byte ranges in, `UpstreamError.invalidResponse` out.
struct ResponseFramingCheck: Sendable {
    /// The Content-Length value, once its field was seen.
    private(set) var length: UInt64?
    private var sawTransferEncoding = false
    /// `Transfer-Encoding: chunked` was seen.
    var isChunked: Bool { sawTransferEncoding }

    /// Looks at one field; ignores every name but the two framing fields.
    mutating func inspect(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(UpstreamError) {
        if Self.equalsLowercase(name, Self.contentLength) {
            try inspectContentLength(value)
        } else if Self.equalsLowercase(name, Self.transferEncoding) {
            guard !sawTransferEncoding, Self.equalsLowercase(value, Self.chunked) else {
                throw .invalidResponse("unsupported Transfer-Encoding in response")
            }
            sawTransferEncoding = true
        }
    }

    /// After the last field of the head.
    func finish() throws(UpstreamError) {
        if sawTransferEncoding && length != nil {
            throw .invalidResponse("response has both Content-Length and Transfer-Encoding")
        }
    }

    /// One field, digits only (the parser has trimmed the surrounding whitespace). RFC 9110
    /// §8.6 lets a recipient accept a list of equal values; the gateway refuses it instead, as
    /// it refuses a second field, rather than forward either.
    private mutating func inspectContentLength(_ value: UnsafeRawBufferPointer) throws(UpstreamError) {
        guard length == nil else { throw .invalidResponse("several Content-Length fields in response") }
        var number: UInt64 = 0
        var digits = 0
        for b in value {
            guard b >= 0x30 && b <= 0x39 else { throw .invalidResponse("invalid Content-Length in response") }
            digits += 1
            guard digits <= 19 else { throw .invalidResponse("invalid Content-Length in response") }
            number = number * 10 + UInt64(b - 0x30)
        }
        guard digits > 0 else { throw .invalidResponse("invalid Content-Length in response") }
        length = number
    }

    private static let contentLength: StaticString = "content-length"
    private static let transferEncoding: StaticString = "transfer-encoding"
    private static let chunked: StaticString = "chunked"

    private static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        RequestFieldKind.equalsLowercase(bytes, lowercase)
    }
}
