import GatewayHTTP

/// An upstream request the gateway writes itself, as bytes, on a connection libcurl made
/// (see `DirectExchange`): the request line, `Host`, the given fields, and
/// `Content-Length: 0` where a body-carrying method has none (RFC 9110 §8.6).
///
/// Only requests without a body whose URL is a plain `http://` or `https://` URL (no user
/// information, no fragment) take this way; `make` answers nil for the others, which go
/// through libcurl's own HTTP transfer.
struct DirectRequest: Sendable {
    /// The connection this request needs.
    var key: UpstreamPoolKey
    /// The URL libcurl connects to (scheme and authority only).
    var connectURL: String
    /// The whole request head, CRLF CRLF included.
    var head: [UInt8]
    /// HEAD: the response has no body (RFC 9110 §9.3.2).
    var isHeadRequest: Bool

    /// - Parameter origin: the origin of the previous request, reused when this URL has
    ///   the same one; replaced by this request's.
    /// - Returns: nil when the request must go through libcurl's HTTP transfer.
    /// - Throws: `.connectFailed` for a method, field or URL that is not valid HTTP (as the
    ///   libcurl transfer would).
    static func make(_ request: UpstreamRequest, origin: inout UpstreamOrigin?) throws(UpstreamError) -> DirectRequest? {
        let isHead = request.method == "HEAD"
        guard request.body == .none || isHead else { return nil }
        var url = request.url
        var result: Result<DirectRequest?, UpstreamError> = .success(nil)
        url.withUTF8 { url in
            if let known = origin, known.matches(url, tls: request.tls) {
                result = make(request, url: url, origin: known, isHead: isHead)
            } else if let read = UpstreamOrigin.read(url, tls: request.tls) {
                origin = read
                result = make(request, url: url, origin: read, isHead: isHead)
            }
        }
        return try result.get()
    }

    private static func make(_ request: UpstreamRequest, url: UnsafeBufferPointer<UInt8>, origin: UpstreamOrigin,
                             isHead: Bool) -> Result<DirectRequest?, UpstreamError> {
        guard ResponseHeadParser.isToken(request.method) else {
            return .failure(.connectFailed("request method is not a valid token"))
        }
        let path = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: url[origin.prefix.count...]))
        let slash = path.isEmpty || path.first == 0x3F  // origin-form starts with "/"
        // Sized from the lengths (an upper bound: framing fields are counted but not
        // written), then validated while written, in one pass over the bytes.
        var hostGiven = false
        var size: Int = request.method.utf8.count + path.count + 14
        if slash { size += 1 }
        for i in request.fields.indices {
            size += request.fields[i].withNameBytes { name -> Int in
                if name.count == 4 && RequestFieldKind.equalsLowercase(name, "host") { hostGiven = true }
                return name.count
            }
            size += request.fields[i].valueByteCount + 4
        }
        if !hostGiven { size += 6 + origin.hostField.count + 2 }
        var contentLengthZero = false
        if !isHead {
            switch request.method {
            case "POST", "PUT", "PATCH": contentLengthZero = true
            default: break
            }
        }
        if contentLengthZero { size += Self.contentLengthZero.utf8CodeUnitCount }
        var pathError: PathProblem?
        var valid = true
        let head = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var out = HeadWriter(base: buffer.baseAddress!, capacity: buffer.count)
            out.append(request.method)
            out.append(0x20)
            if slash { out.append(0x2F) }
            pathError = out.appendPath(path)
            guard pathError == nil else { return }
            out.append(" HTTP/1.1\r\n")
            if !hostGiven {
                out.append("Host: ")
                origin.hostField.withUnsafeBytes { out.append($0) }
                out.append("\r\n")
            }
            for i in request.fields.indices where valid {
                request.fields[i].withNameBytes { name in
                    guard out.appendToken(name) else {
                        valid = false
                        return
                    }
                    if case .framing = RequestFieldKind(name) {
                        out.count -= name.count
                        return
                    }
                    out.append(0x3A)
                    request.fields[i].withValueBytes { value in
                        if !value.isEmpty { out.append(0x20) }
                        if !out.appendFieldValue(value) { valid = false }
                    }
                    out.append("\r\n")
                }
            }
            if contentLengthZero { out.append(Self.contentLengthZero) }
            out.append("\r\n")
            count = out.count
        }
        switch pathError {
        case .fragment?: return .success(nil)  // libcurl's to interpret
        case .invalid?: return .failure(.connectFailed("upstream URL refused by libcurl"))
        case nil: break
        }
        guard valid else { return .failure(.connectFailed("request field is not valid HTTP")) }
        return .success(DirectRequest(key: origin.key, connectURL: origin.connectURL, head: head, isHeadRequest: isHead))
    }

    private enum PathProblem { case fragment, invalid }

    private static let contentLengthZero: StaticString = "Content-Length: 0\r\n"

    /// Appends bytes at `base + count`; the caller sized the buffer, and writing past
    /// `capacity` stops the process rather than memory being overwritten.
    private struct HeadWriter {
        let base: UnsafeMutablePointer<UInt8>
        let capacity: Int
        var count = 0
        @inline(__always)
        mutating func append(_ byte: UInt8) {
            precondition(count < capacity)
            base[count] = byte
            count += 1
        }
        @inline(__always)
        mutating func append(_ bytes: UnsafeRawBufferPointer) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            precondition(bytes.count <= capacity - count)
            (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            count += bytes.count
        }
        @inline(__always)
        mutating func append(_ text: StaticString) {
            precondition(text.utf8CodeUnitCount <= capacity - count)
            (base + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
            count += text.utf8CodeUnitCount
        }
        /// Copies a field name, checking that it is a token (RFC 9110 §5.6.2).
        /// - Returns: false (nothing written) for an empty or invalid name.
        mutating func appendToken(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard !bytes.isEmpty, bytes.count <= capacity - count else { return false }
            for b in bytes {
                guard HTTPSyntax.isTokenChar(b) else { return false }
                base[count] = b
                count += 1
            }
            return true
        }

        /// Copies a field value, checking for CR, LF, NUL and other CTLs (RFC 9110 §5.5).
        /// - Returns: false at the first byte that may not be in a field value.
        mutating func appendFieldValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard bytes.count <= capacity - count else { return false }
            for b in bytes {
                guard HTTPSyntax.isFieldValueByte(b) else { return false }
                base[count] = b
                count += 1
            }
            return true
        }

        /// Copies the path and query (origin-form, RFC 9112 §3.2.1): visible ASCII only.
        mutating func appendPath(_ bytes: UnsafeRawBufferPointer) -> PathProblem? {
            guard bytes.count <= capacity - count else { return .invalid }
            for b in bytes {
                if b == 0x23 { return .fragment }
                guard b > 0x20 && b < 0x7F else { return .invalid }
                base[count] = b
                count += 1
            }
            return nil
        }

        mutating func append(_ text: String) {
            var text = text
            text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        }
    }
}
