import GatewayHTTP

/// The framing fields of one response head, checked as their lines are read
/// (RFC 9112 §6.1, §6.3; RFC 9110 §8.6): `Content-Length` must be digits and agree with
/// itself, `Transfer-Encoding` must be a single `chunked`, and both at once is refused
/// (a response-splitting sign). Field names and `chunked` compare in ASCII case only.
///
/// Pure and allocation-free; byte ranges in, `UpstreamError.invalidResponse` out.
struct ResponseFramingCheck: Sendable {
    /// The first Content-Length value and its digit count (values agree only when both match:
    /// "05" and "5" are different texts).
    private var length: UInt64?
    private var lengthDigits = 0
    private var sawTransferEncoding = false

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

    /// A list of identical values is allowed (RFC 9110 §8.6): "5, 5".
    private mutating func inspectContentLength(_ value: UnsafeRawBufferPointer) throws(UpstreamError) {
        var i = 0
        while true {
            // One list member: OWS digits OWS, up to "," or the end.
            while i < value.count, value[i] == 0x20 || value[i] == 0x09 { i += 1 }
            var number: UInt64 = 0
            var digits = 0
            while i < value.count, value[i] >= 0x30 && value[i] <= 0x39 {
                digits += 1
                guard digits <= 19 else { throw .invalidResponse("invalid Content-Length in response") }
                number = number * 10 + UInt64(value[i] - 0x30)
                i += 1
            }
            while i < value.count, value[i] == 0x20 || value[i] == 0x09 { i += 1 }
            guard digits > 0, i == value.count || value[i] == 0x2C else {
                throw .invalidResponse("invalid Content-Length in response")
            }
            if let previous = length, previous != number || lengthDigits != digits {
                throw .invalidResponse("conflicting Content-Length in response")
            }
            length = number
            lengthDigits = digits
            if i == value.count { return }
            i += 1  // the comma
        }
    }

    private static let contentLength: StaticString = "content-length"
    private static let transferEncoding: StaticString = "transfer-encoding"
    private static let chunked: StaticString = "chunked"

    private static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        RequestFieldKind.equalsLowercase(bytes, lowercase)
    }
}
