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

    /// - Returns: nil when the request must go through libcurl's HTTP transfer.
    /// - Throws: `.connectFailed` for a method, field or URL that is not valid HTTP (as the
    ///   libcurl transfer would).
    static func make(_ request: UpstreamRequest) throws(UpstreamError) -> DirectRequest? {
        let isHead = request.method == "HEAD"
        guard request.body == .none || isHead else { return nil }
        let url = request.url.utf8
        let schemeLength: Int
        if url.starts(with: "http://".utf8) {
            schemeLength = 7
        } else if url.starts(with: "https://".utf8) {
            schemeLength = 8
        } else {
            return nil
        }
        let isTLS = schemeLength == 8
        let bytes = Array(url)
        var end = schemeLength
        while end < bytes.count, bytes[end] != 0x2F, bytes[end] != 0x3F, bytes[end] != 0x23 { end += 1 }
        let authority = bytes[schemeLength..<end]
        // User information and fragments are libcurl's to interpret.
        guard !authority.isEmpty, !authority.contains(0x40), !bytes[end...].contains(0x23) else { return nil }
        guard let hostField = Self.hostField(authority, defaultPort: isTLS ? 443 : 80) else { return nil }
        let path = bytes[end...]
        guard path.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .connectFailed("upstream URL refused by libcurl")
        }
        guard ResponseHeadParser.isToken(request.method) else {
            throw .connectFailed("request method is not a valid token")
        }
        // Sized from the lengths (an upper bound: framing fields are counted but not
        // written), then validated while written, in one pass over the bytes.
        let slash = path.isEmpty || path.first == 0x3F  // origin-form starts with "/"
        var hostGiven = false
        var size = request.method.utf8.count + 1 + (slash ? 1 : 0) + path.count + 11 + 2
        for i in request.fields.indices {
            size += request.fields[i].withNameBytes { name -> Int in
                if name.count == 4 && RequestFieldKind.equalsLowercase(name, "host") { hostGiven = true }
                return name.count
            }
            size += request.fields[i].valueByteCount + 4
        }
        if !hostGiven { size += 6 + hostField.count + 2 }
        var contentLengthZero = false
        if !isHead {
            switch request.method {
            case "POST", "PUT", "PATCH": contentLengthZero = true
            default: break
            }
        }
        if contentLengthZero { size += Self.contentLengthZero.utf8CodeUnitCount }
        var valid = true
        let head = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var out = HeadWriter(base: buffer.baseAddress!, capacity: buffer.count)
            out.append(request.method)
            out.append(0x20)
            if slash { out.append(0x2F) }
            path.withUnsafeBytes { out.append($0) }
            out.append(" HTTP/1.1\r\n")
            if !hostGiven {
                out.append("Host: ")
                hostField.withUnsafeBytes { out.append($0) }
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
        guard valid else { throw .connectFailed("request field is not valid HTTP") }
        let origin = String(decoding: bytes[0..<end], as: UTF8.self)
        return DirectRequest(key: UpstreamPoolKey(origin: origin, isTLS: isTLS, tls: request.tls),
                             connectURL: origin + "/", head: head, isHeadRequest: isHead)
    }

    private static let contentLengthZero: StaticString = "Content-Length: 0\r\n"

    /// Appends bytes at `base + count`; the caller sized the buffer, and writing past
    /// `capacity` stops the process rather than memory being overwritten.
    private struct HeadWriter {
        let base: UnsafeMutablePointer<UInt8>
        let capacity: Int
        var count = 0
        mutating func append(_ byte: UInt8) {
            precondition(count < capacity)
            base[count] = byte
            count += 1
        }
        mutating func append(_ bytes: UnsafeRawBufferPointer) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            precondition(bytes.count <= capacity - count)
            (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            count += bytes.count
        }
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

        mutating func append(_ text: String) {
            var text = text
            text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        }
    }

    /// The `Host` value libcurl would send for `authority`: host and port, without a port
    /// that is the scheme's default (RFC 9110 §7.2). nil for an authority this code does
    /// not read (libcurl then handles the request).
    private static func hostField(_ authority: ArraySlice<UInt8>, defaultPort: Int) -> ArraySlice<UInt8>? {
        var hostEnd = authority.endIndex
        if authority.first == 0x5B {  // "[" IPv6 literal "]"
            guard let close = authority.firstIndex(of: 0x5D) else { return nil }
            hostEnd = close + 1
        } else if let colon = authority.firstIndex(of: 0x3A) {
            hostEnd = colon
        }
        let host = authority[authority.startIndex..<hostEnd]
        guard !host.isEmpty else { return nil }
        if hostEnd == authority.endIndex { return authority }
        guard authority[hostEnd] == 0x3A else { return nil }
        let digits = authority[(hostEnd + 1)...]
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var port = 0
        for d in digits { port = port * 10 + Int(d - 0x30) }
        guard port > 0, port <= 65535 else { return nil }
        return port == defaultPort ? host : authority
    }
}
