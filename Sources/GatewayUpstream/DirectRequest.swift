import GatewayHTTP

/// An upstream request the gateway writes itself, as bytes, on a connection libcurl made
/// (see `DirectExchange`): the request line, `Host`, the given fields, and
/// `Content-Length: 0` where a body-carrying method has none (RFC 9110 §8.6).
///
/// Only requests without a body whose URL is a plain `http://` or `https://` URL (no user
/// information, no fragment) take this way; `make` answers nil for the others, which go
/// through libcurl's own HTTP transfer.
struct DirectRequest: Sendable {
    /// Where the request goes (shared by every request to that origin).
    var origin: UpstreamOrigin
    /// The whole request head, CRLF CRLF included.
    var head: [UInt8]
    /// HEAD: the response has no body (RFC 9110 §9.3.2).
    var isHeadRequest: Bool

    /// The connection this request needs.
    var key: UpstreamPoolKey { origin.key }
    /// The URL libcurl connects to (scheme and authority only).
    var connectURL: String { origin.connectURL }

    /// - Parameter origin: the origin of the previous request, reused when this URL has
    ///   the same one; replaced by this request's.
    /// - Returns: nil when the request must go through libcurl's HTTP transfer.
    /// - Throws: `.connectFailed` for a method, field or URL that is not valid HTTP (as the
    ///   libcurl transfer would).
    static func make(_ request: UpstreamRequest, origin: inout UpstreamOrigin?) throws(UpstreamError) -> DirectRequest? {
        let result = withBytes(request.method) { method in
            withBytes(request.url) { url in make(request, method: method, url: url, origin: &origin) }
        }
        return try result.get()
    }

    private static func make(_ request: UpstreamRequest, method: UnsafeRawBufferPointer, url: UnsafeRawBufferPointer,
                             origin: inout UpstreamOrigin?) -> Result<DirectRequest?, UpstreamError> {
        let kind = MethodKind(method)
        guard request.body == .none || kind == .head else { return .success(nil) }
        let target: UpstreamOrigin
        if let known = origin, known.matches(url, tls: request.tls) {
            target = known
        } else if let read = UpstreamOrigin.read(url, tls: request.tls) {
            origin = read
            target = read
        } else {
            return .success(nil)
        }
        guard !method.isEmpty, method.allSatisfy(HeadWriter.isTokenByte) else {
            return .failure(.connectFailed("request method is not a valid token"))
        }
        let shape = Shape(method: method, path: UnsafeRawBufferPointer(rebasing: url[target.prefix.count...]),
                          hostField: target.hostField, contentLengthZero: kind == .bodyCarrying)
        // Written in one pass into a buffer sized by a guess; a head that does not fit is
        // written again into one of the exact size.
        // The head is written into a temporary buffer (on the stack when small) and copied
        // into an array of its length: an array made with `unsafeUninitializedCapacity`
        // or `repeating:` is allocated through an unspecialised path (a generic metadata
        // look-up per request), one made from a buffer is not.
        var capacity = shape.fixedBytes + request.fields.count * 96
        var exact = false
        while true {
            var head: [UInt8] = []
            let problem = request.fields.withUnsafeBufferPointer { fields in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer -> Problem? in
                    var out = HeadWriter(base: buffer.baseAddress!, capacity: buffer.count)
                    let problem = shape.write(fields, to: &out)
                    if problem == nil { head = Array(UnsafeBufferPointer(rebasing: buffer[0..<out.count])) }
                    return problem
                }
            }
            switch problem {
            case nil:
                return .success(DirectRequest(origin: target, head: head, isHeadRequest: kind == .head))
            case .overflow?:
                precondition(!exact, "request head longer than its exact size")
                capacity = request.fields.withUnsafeBufferPointer { shape.exactBytes($0) }
                exact = true
            case .fragment?:
                return .success(nil)  // libcurl's to interpret
            case .invalidPath?:
                return .failure(.connectFailed("upstream URL refused by libcurl"))
            case .invalidField?:
                return .failure(.connectFailed("request field is not valid HTTP"))
            }
        }
    }

    /// The UTF-8 bytes of `text`, without a copy for a native or small string.
    private static func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let r = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
        return Array(text.utf8).withUnsafeBytes(body)
    }

    /// What the method means for the head: HEAD (no body ever, RFC 9110 §9.3.2), a method
    /// whose bodiless request says `Content-Length: 0` (RFC 9110 §8.6), or another.
    private enum MethodKind {
        case head, bodyCarrying, other

        init(_ method: UnsafeRawBufferPointer) {
            if Self.equals(method, "HEAD") {
                self = .head
            } else if Self.equals(method, "POST") || Self.equals(method, "PUT") || Self.equals(method, "PATCH") {
                self = .bodyCarrying
            } else {
                self = .other
            }
        }

        /// Methods are case-sensitive (RFC 9110 §9.1).
        private static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
            bytes.count == text.utf8CodeUnitCount
                && bytes.elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
    }

    fileprivate enum Problem { case overflow, fragment, invalidPath, invalidField }

    /// The parts of the head other than the fields.
    private struct Shape {
        let method: UnsafeRawBufferPointer
        /// What follows the authority in the URL: path and query, maybe empty.
        let path: UnsafeRawBufferPointer
        /// A `Host` line is written from it unless a field is named `Host`.
        let hostField: [UInt8]
        let contentLengthZero: Bool

        static let contentLengthZeroLine: StaticString = "Content-Length: 0\r\n"

        /// origin-form starts with "/" (RFC 9112 §3.2.1): added when the URL has none.
        var addsSlash: Bool { path.isEmpty || path.first == 0x3F }

        /// `Host: ` value CRLF.
        var hostLineBytes: Int { 8 + hostField.count }

        /// What follows the fields: `Content-Length: 0` maybe, and the empty line.
        var tailBytes: Int { (contentLengthZero ? Self.contentLengthZeroLine.utf8CodeUnitCount : 0) + 2 }

        /// Request line, `Host` line and tail.
        var fixedBytes: Int {
            method.count + 1 + (addsSlash ? 1 : 0) + path.count + 11 + hostLineBytes + tailBytes
        }

        /// An upper bound of the whole head (framing fields are counted but not written).
        func exactBytes(_ fields: UnsafeBufferPointer<HTTPField>) -> Int {
            var size = fixedBytes
            for i in fields.indices { size += fields[i].withNameAndValueBytes { $0.count + $1.count + 4 } }
            return size
        }

        /// Writes the head, validating while copying: the path (visible ASCII, RFC 9112
        /// §3.2.1), field names (tokens, RFC 9110 §5.6.2) and values (no CR, LF, NUL or
        /// other CTL, RFC 9110 §5.5). Framing fields (`Content-Length`,
        /// `Transfer-Encoding`, `Expect`) are left out: framing comes from the request's
        /// body alone (RFC 9112 §6) and the exchange never waits for 100-continue.
        /// - Returns: nil when the head is complete in `out`, else why not.
        func write(_ fields: UnsafeBufferPointer<HTTPField>, to out: inout HeadWriter) -> Problem? {
            guard out.room >= fixedBytes else { return .overflow }
            out.append(method)
            out.append(0x20)
            if addsSlash { out.append(0x2F) }
            if let problem = out.appendPath(path) { return problem }
            out.append(" HTTP/1.1\r\n")
            let hostLineStart = out.count
            out.append("Host: ")
            hostField.withUnsafeBytes { out.append($0) }
            out.append("\r\n")
            let tail = tailBytes
            var hostGiven = false
            for i in fields.indices {
                let problem = fields[i].withNameAndValueBytes { name, value -> Problem? in
                    guard out.room - tail >= name.count + value.count + 4 else { return .overflow }
                    guard !name.isEmpty, out.appendToken(name) else { return .invalidField }
                    switch name.count {
                    case 4:
                        if RequestFieldKind.equalsLowercase(name, "host") { hostGiven = true }
                    case 6, 14, 17:
                        if case .framing = RequestFieldKind(name) {
                            out.count -= name.count
                            return nil
                        }
                    default:
                        break
                    }
                    if value.isEmpty {
                        out.append(0x3A)
                    } else {
                        out.append(0x3A, 0x20)
                        guard out.appendFieldValue(value) else { return .invalidField }
                    }
                    out.append(0x0D, 0x0A)
                    return nil
                }
                if let problem { return problem }
            }
            if hostGiven { out.remove(hostLineStart..<(hostLineStart + hostLineBytes)) }
            if contentLengthZero { out.append(Self.contentLengthZeroLine) }
            out.append("\r\n")
            return nil
        }
    }

    /// Appends bytes at `base + count`. The caller checks `room` first; writing past
    /// `capacity` stops the process rather than memory being overwritten.
    fileprivate struct HeadWriter {
        let base: UnsafeMutablePointer<UInt8>
        let capacity: Int
        var count = 0

        var room: Int { capacity - count }

        @inline(__always)
        mutating func append(_ byte: UInt8) {
            precondition(count < capacity)
            base[count] = byte
            count += 1
        }

        /// Two bytes, stored directly (a separator or CRLF).
        @inline(__always)
        mutating func append(_ first: UInt8, _ second: UInt8) {
            precondition(capacity - count >= 2)
            base[count] = first
            base[count + 1] = second
            count += 2
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

        /// Takes `range` (written bytes) out, moving what follows it back.
        mutating func remove(_ range: Range<Int>) {
            precondition(range.lowerBound >= 0 && range.upperBound <= count)
            (base + range.lowerBound).update(from: base + range.upperBound, count: count - range.upperBound)
            count -= range.count
        }

        /// "1" at index `byte` for a token character (RFC 9110 §5.6.2: DIGIT, ALPHA and
        /// ``!#$%&'*+-.^_`|~``), "0" for every other byte; 64 bytes per line.
        private static var tokenTable: StaticString {
            """
            0000000000000000000000000000000001011111001101101111111111000000\
            0111111111111111111111111110001111111111111111111111111111101010\
            0000000000000000000000000000000000000000000000000000000000000000\
            0000000000000000000000000000000000000000000000000000000000000000
            """
        }

        @inline(__always)
        static func isTokenByte(_ byte: UInt8) -> Bool {
            tokenTable.utf8Start[Int(byte)] == 0x31
        }

        /// Whether `byte` may be in a field value (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text.
        @inline(__always)
        static func isFieldValueByte(_ byte: UInt8) -> Bool {
            (byte >= 0x20 && byte != 0x7F) || byte == 0x09
        }

        /// Copies a field name, checking that it is a token (RFC 9110 §5.6.2). The caller
        /// checked `room`.
        /// - Returns: false (nothing counted as written) when a byte is not a token character.
        @inline(__always)
        mutating func appendToken(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard let source = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
            let n = bytes.count
            precondition(n <= capacity - count)
            // Copied in the same loop: names are short, shorter than a memmove call costs.
            let table = Self.tokenTable.utf8Start
            let target = base + count
            var i = 0
            while i < n {
                let b = source[i]
                guard table[Int(b)] == 0x31 else { return false }
                target[i] = b
                i &+= 1
            }
            count += n
            return true
        }

        /// Copies a field value, checking for CR, LF, NUL and other CTLs (RFC 9110 §5.5).
        /// The caller checked `room`.
        /// - Returns: false (nothing counted as written) when a byte may not be in a field value.
        @inline(__always)
        mutating func appendFieldValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard let source = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
            let n = bytes.count
            precondition(n <= capacity - count)
            guard Self.areFieldValueBytes(source, n) else { return false }
            (base + count).update(from: source, count: n)
            count += n
            return true
        }

        /// Whether all `n` bytes at `bytes` may be in a field value, eight at a time: a word
        /// with no byte below 0x20 and none equal to 0x7F is valid as a whole (the exact
        /// "has a byte less than" / "has a zero byte" word tests); any other word is looked
        /// at byte by byte (HTAB is below 0x20 and valid).
        static func areFieldValueBytes(_ bytes: UnsafePointer<UInt8>, _ n: Int) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            var i = 0
            while n - i >= 8 {
                let word = UnsafeRawPointer(bytes + i).loadUnaligned(as: UInt64.self)
                let below20 = (word &- ones &* 0x20) & ~word & highBits
                let del = word ^ (ones &* 0x7F)
                let equal7F = (del &- ones) & ~del & highBits
                if below20 | equal7F != 0 {
                    for j in i..<(i + 8) where !isFieldValueByte(bytes[j]) { return false }
                }
                i &+= 8
            }
            while i < n {
                guard isFieldValueByte(bytes[i]) else { return false }
                i &+= 1
            }
            return true
        }

        /// Copies the path and query (origin-form, RFC 9112 §3.2.1): visible ASCII only.
        /// The caller checked `room`.
        mutating func appendPath(_ bytes: UnsafeRawBufferPointer) -> Problem? {
            precondition(bytes.count <= capacity - count)
            for b in bytes {
                if b == 0x23 { return .fragment }
                guard b > 0x20 && b < 0x7F else { return .invalidPath }
                base[count] = b
                count += 1
            }
            return nil
        }

        mutating func append(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { append($0) }
        }
    }
}
