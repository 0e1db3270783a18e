import GatewayHTTP
@testable import GatewayUpstream

/// The upstream response head parser as it was before the field lines were kept in their
/// client form (byte for byte the earlier `ResponseHeadParser`), kept in the tests as the
/// reference the current parser and client-head writer are compared with: the rules may
/// only have become stricter.
///
/// Strict, bounded parser for the response head lines libcurl hands to
/// CURLOPT_HEADERFUNCTION, one complete line per call (RFC 9112 §2.1, §4, §5).
///
/// Pure: no I/O. Lines arrive with their line terminator ("\r\n", or a bare "\n",
/// which RFC 9112 §2.2 lets a recipient accept). Interim 1xx responses are skipped
/// (RFC 9110 §15.2); the head of the final response is returned once its empty line
/// arrives. Lines after that are trailer fields (RFC 9112 §7.1.2); they are counted
/// against their own limit and otherwise ignored.
///
/// Each line is scanned in place, once: the only allocations are the name and value
/// `String`s of the fields returned. The framing fields (`Content-Length`,
/// `Transfer-Encoding`) are checked while their lines are scanned (`ResponseFramingCheck`).
struct LegacyResponseHeadParser: Sendable {
    /// Limit on all head bytes (interim responses included), and separately on trailer bytes.
    static let maxHeadBytes = 64 * 1024

    /// The final response head.
    struct Head: Sendable, Equatable {
        var status: Int
        var fields: [HTTPField]
        /// The framing fields as checked: the `Content-Length` value, or `chunked`.
        var contentLength: UInt64? = nil
        var chunked = false
        /// Whether the connection may carry another exchange after this response: an
        /// HTTP/1.1 status line and no `close` in `Connection` (RFC 9112 §9.3).
        var persistent = true
    }

    private var headBytes = 0
    private var trailerBytes = 0
    /// The status of the head being read; 0 before its status line.
    private var status = 0
    /// The names and values of the head's fields, back to back; the returned fields share it.
    private var fieldBytes: [UInt8] = []
    /// Per field: name start, name end (= value start), value end, in `fieldBytes`.
    private var fieldEnds: [(name: UInt32, value: UInt32)] = []
    private var framing = ResponseFramingCheck()
    /// The status line of the head being read says HTTP/1.1.
    private var http11 = true
    /// A `Connection` field of the final head lists `close`.
    private var connectionClose = false
    /// True once the final head was returned.
    private(set) var isComplete = false

    /// Consumes one line.
    /// - Returns: the final head when `line` is the empty line that ends it, else nil.
    /// - Throws: `UpstreamError.invalidResponse` for a line that breaks the grammar,
    ///   a head (or trailer section) over `maxHeadBytes`, a `101` (no upgrade was
    ///   requested), or framing fields that contradict each other (RFC 9112 §6.3).
    mutating func consume(_ line: UnsafeRawBufferPointer) throws(UpstreamError) -> Head? {
        if isComplete {
            trailerBytes += line.count
            if trailerBytes > Self.maxHeadBytes {
                throw .invalidResponse("response trailer section over 64 KiB")
            }
            return nil
        }
        headBytes += line.count
        if headBytes > Self.maxHeadBytes {
            throw .invalidResponse("response head over 64 KiB")
        }
        let content = try Self.stripTerminator(line)
        if status == 0 {
            status = try Self.parseStatusLine(content)
            http11 = content[7] == 0x31
            return nil
        }
        if !content.isEmpty {
            try parseFieldLine(content)
            return nil
        }
        // The empty line ends this response head (RFC 9112 §2.1).
        if status < 200 {
            // Interim response (RFC 9110 §15.2): discard and wait for the next status line.
            status = 0
            fieldBytes.removeAll(keepingCapacity: true)
            fieldEnds.removeAll(keepingCapacity: true)
            framing = ResponseFramingCheck()
            return nil
        }
        try framing.finish()
        isComplete = true
        let bytes = fieldBytes
        var fields: [HTTPField] = []
        fields.reserveCapacity(fieldEnds.count)
        var start = 0
        for (nameEnd, valueEnd) in fieldEnds {
            fields.append(HTTPField(bytes: bytes, name: start..<Int(nameEnd), value: Int(nameEnd)..<Int(valueEnd)))
            start = Int(valueEnd)
        }
        fieldBytes = []
        fieldEnds = []
        return Head(status: status, fields: fields, contentLength: framing.length,
                    chunked: framing.isChunked, persistent: http11 && !connectionClose)
    }

    // MARK: - Grammar

    /// Removes "\r\n" or "\n"; any other CR, LF or NUL is refused (RFC 9112 §2.2).
    private static func stripTerminator(_ line: UnsafeRawBufferPointer) throws(UpstreamError) -> UnsafeRawBufferPointer {
        var end = line.count
        guard end > 0, line[end - 1] == 0x0A else { throw .invalidResponse("response line without line terminator") }
        end -= 1
        if end > 0 && line[end - 1] == 0x0D { end -= 1 }
        let content = UnsafeRawBufferPointer(rebasing: line[0..<end])
        for c in content where c == 0x0D || c == 0x0A || c == 0x00 {
            throw .invalidResponse("bare CR, LF or NUL in response head")
        }
        return content
    }

    /// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4).
    /// A missing SP after the code is accepted, as most recipients do.
    static func parseStatusLine(_ b: UnsafeRawBufferPointer) throws(UpstreamError) -> Int {
        // "HTTP/1." as bytes.
        guard b.count >= 12, b[0] == 0x48, b[1] == 0x54, b[2] == 0x54, b[3] == 0x50, b[4] == 0x2F,
              b[5] == 0x31, b[6] == 0x2E, b[7] == 0x30 || b[7] == 0x31, b[8] == 0x20 else {
            throw .invalidResponse("malformed status line")
        }
        var code = 0
        for i in 9..<12 {
            let c = b[i]
            guard c >= 0x30 && c <= 0x39 else { throw .invalidResponse("malformed status code") }
            code = code * 10 + Int(c - 0x30)
        }
        guard code >= 100 && code <= 599 else { throw .invalidResponse("status code out of range") }
        if b.count > 12 {
            guard b[12] == 0x20 else { throw .invalidResponse("malformed status line") }
            // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
            for c in UnsafeRawBufferPointer(rebasing: b[13...]) where !HTTPSyntax.isFieldValueByte(c) {
                throw .invalidResponse("control character in reason phrase")
            }
        }
        if code == 101 {
            // No Upgrade is ever requested, so a protocol switch is a broken upstream.
            throw .invalidResponse("unexpected 101 Switching Protocols")
        }
        return code
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5, RFC 9110 §5.1, §5.5).
    private mutating func parseFieldLine(_ line: UnsafeRawBufferPointer) throws(UpstreamError) {
        let first = line[0]
        if first == 0x20 || first == 0x09 {
            // obs-fold: a gateway must reject or unfold it (RFC 9112 §5.2); we reject.
            throw .invalidResponse("obsolete line folding in response head")
        }
        // The name must be a token; whitespace before the colon is refused as well (RFC 9112 §5.1).
        var colon = 0
        while colon < line.count, line[colon] != 0x3A {
            guard HTTPSyntax.isTokenChar(line[colon]) else {
                throw .invalidResponse(line[colon...].contains(0x3A)
                                       ? "invalid response field name" : "response field line without colon")
            }
            colon += 1
        }
        guard colon < line.count else { throw .invalidResponse("response field line without colon") }
        guard colon > 0 else { throw .invalidResponse("invalid response field name") }
        var start = colon + 1
        var end = line.count
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        // field-value = *( VCHAR / obs-text / SP / HTAB ); DEL and other CTLs refused.
        var ascii = true
        for i in start..<end {
            let c = line[i]
            guard HTTPSyntax.isFieldValueByte(c) else {
                throw .invalidResponse("control character in response field value")
            }
            if c >= 0x80 { ascii = false }
        }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        let value = UnsafeRawBufferPointer(rebasing: line[start..<end])
        // Interim (1xx) heads are discarded whole, framing included.
        if status >= 200 {
            try framing.inspect(name: name, value: value)
            if RequestFieldKind.equalsLowercase(name, "connection") && Self.listsClose(value) { connectionClose = true }
        }
        // Values may become Swift strings later; refuse bytes that would not survive
        // unchanged. A token is ASCII, so the name always decodes exactly.
        if !ascii, String(validating: value.assumingMemoryBound(to: UInt8.self), as: UTF8.self) == nil {
            throw .invalidResponse("response field value is not UTF-8")
        }
        if fieldEnds.isEmpty {
            fieldBytes.reserveCapacity(512)
            fieldEnds.reserveCapacity(16)
        }
        fieldBytes.append(contentsOf: name.assumingMemoryBound(to: UInt8.self))
        let nameEnd = UInt32(truncatingIfNeeded: fieldBytes.count)
        fieldBytes.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
        fieldEnds.append((nameEnd, UInt32(truncatingIfNeeded: fieldBytes.count)))
    }

    /// Whether a `Connection` value lists the `close` option (RFC 9110 §7.6.1), in any case.
    static func listsClose(_ value: UnsafeRawBufferPointer) -> Bool {
        var start = 0
        while start < value.count {
            var end = start
            while end < value.count, value[end] != 0x2C { end += 1 }
            var a = start
            var b = end
            while a < b, value[a] == 0x20 || value[a] == 0x09 { a += 1 }
            while b > a, value[b - 1] == 0x20 || value[b - 1] == 0x09 { b -= 1 }
            if RequestFieldKind.equalsLowercase(UnsafeRawBufferPointer(rebasing: value[a..<b]), "close") { return true }
            start = end + 1
        }
        return false
    }

    /// token = 1*tchar (RFC 9110 §5.6.2): methods and field names (`HTTPSyntax.isToken`).
    static func isToken(_ text: String) -> Bool { HTTPSyntax.isToken(text) }
}
