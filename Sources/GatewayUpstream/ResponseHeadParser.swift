import GatewayHTTP

/// Strict, bounded parser for the response head lines libcurl hands to
/// CURLOPT_HEADERFUNCTION, one complete line per call (RFC 9112 §2.1, §4, §5).
///
/// Pure: no I/O. Lines arrive with their line terminator ("\r\n", or a bare "\n",
/// which RFC 9112 §2.2 lets a recipient accept). Interim 1xx responses are skipped
/// (RFC 9110 §15.2); the head of the final response is returned once its empty line
/// arrives. Lines after that are trailer fields (RFC 9112 §7.1.2); they are counted
/// against their own limit and otherwise ignored.
struct ResponseHeadParser: Sendable {
    /// Limit on all head bytes (interim responses included), and separately on trailer bytes.
    static let maxHeadBytes = 64 * 1024

    /// The final response head.
    struct Head: Sendable, Equatable {
        var status: Int
        var fields: [HTTPField]
    }

    private var headBytes = 0
    private var trailerBytes = 0
    private var status: Int?
    private var fields: [HTTPField] = []
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
        guard let current = status else {
            status = try Self.parseStatusLine(content)
            return nil
        }
        if !content.isEmpty {
            fields.append(try Self.parseFieldLine(content))
            return nil
        }
        // The empty line ends this response head (RFC 9112 §2.1).
        if current < 200 {
            // Interim response (RFC 9110 §15.2): discard and wait for the next status line.
            status = nil
            fields = []
            return nil
        }
        try Self.checkFraming(fields)
        isComplete = true
        let head = Head(status: current, fields: fields)
        fields = []
        return head
    }

    // MARK: - Grammar

    /// Removes "\r\n" or "\n"; any other CR, LF or NUL is refused (RFC 9112 §2.2).
    private static func stripTerminator(_ line: UnsafeRawBufferPointer) throws(UpstreamError) -> ArraySlice<UInt8> {
        var bytes = ArraySlice(line)
        guard bytes.last == 0x0A else { throw .invalidResponse("response line without line terminator") }
        bytes.removeLast()
        if bytes.last == 0x0D { bytes.removeLast() }
        if bytes.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
            throw .invalidResponse("bare CR, LF or NUL in response head")
        }
        return bytes
    }

    /// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4).
    /// A missing SP after the code is accepted, as most recipients do.
    static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(UpstreamError) -> Int {
        let b = Array(line)
        let prefix: [UInt8] = Array("HTTP/1.".utf8)
        guard b.count >= 12, Array(b[0..<7]) == prefix, b[7] == 0x30 || b[7] == 0x31, b[8] == 0x20 else {
            throw .invalidResponse("malformed status line")
        }
        var code = 0
        for i in 9..<12 {
            guard (0x30...0x39).contains(b[i]) else { throw .invalidResponse("malformed status code") }
            code = code * 10 + Int(b[i] - 0x30)
        }
        guard (100...599).contains(code) else { throw .invalidResponse("status code out of range") }
        if b.count > 12 {
            guard b[12] == 0x20 else { throw .invalidResponse("malformed status line") }
            // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
            for c in b[13...] where !(c == 0x09 || c == 0x20 || (0x21...0x7E).contains(c) || c >= 0x80) {
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
    static func parseFieldLine(_ line: ArraySlice<UInt8>) throws(UpstreamError) -> HTTPField {
        guard let first = line.first else { throw .invalidResponse("empty field line") }
        if first == 0x20 || first == 0x09 {
            // obs-fold: a gateway must reject or unfold it (RFC 9112 §5.2); we reject.
            throw .invalidResponse("obsolete line folding in response head")
        }
        guard let colon = line.firstIndex(of: 0x3A) else {
            throw .invalidResponse("response field line without colon")
        }
        let name = line[line.startIndex..<colon]
        // Whitespace before the colon is refused as well (RFC 9112 §5.1).
        guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTokenChar) else {
            throw .invalidResponse("invalid response field name")
        }
        var value = line[(colon + 1)...]
        while let c = value.first, c == 0x20 || c == 0x09 { value.removeFirst() }
        while let c = value.last, c == 0x20 || c == 0x09 { value.removeLast() }
        // field-value = *( VCHAR / obs-text / SP / HTAB ); DEL and other CTLs refused.
        for c in value where !HTTPSyntax.isFieldValueByte(c) {
            throw .invalidResponse("control character in response field value")
        }
        // Values travel on as Swift strings; refuse bytes that would not survive unchanged.
        guard let valueText = String(validating: value, as: UTF8.self),
              let nameText = String(validating: name, as: UTF8.self) else {
            throw .invalidResponse("response field value is not UTF-8")
        }
        return HTTPField(name: nameText, value: valueText)
    }

    /// token = 1*tchar (RFC 9110 §5.6.2): methods and field names (`HTTPSyntax.isToken`).
    static func isToken(_ text: String) -> Bool { HTTPSyntax.isToken(text) }

    /// Refuses framing a gateway must not pass on (RFC 9112 §6.1, §6.3; RFC 9110 §8.6):
    /// `Content-Length` that is not digits or disagrees with itself, a transfer coding
    /// other than a single `chunked`, or both fields at once (a response-splitting sign).
    static func checkFraming(_ fields: [HTTPField]) throws(UpstreamError) {
        var length: Substring?
        var sawTransferEncoding = false
        for field in fields {
            let name = HTTPSyntax.asciiLowercased(field.name)
            if name == "content-length" {
                // A list of identical values is allowed (RFC 9110 §8.6).
                for part in field.value.split(separator: ",", omittingEmptySubsequences: false) {
                    let v = part.trimmingSpaces()
                    guard !v.isEmpty, v.count <= 19, v.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                        throw .invalidResponse("invalid Content-Length in response")
                    }
                    if let previous = length, previous != v {
                        throw .invalidResponse("conflicting Content-Length in response")
                    }
                    length = v
                }
            } else if name == "transfer-encoding" {
                guard !sawTransferEncoding, HTTPSyntax.equalsIgnoringASCIICase(field.value, "chunked") else {
                    throw .invalidResponse("unsupported Transfer-Encoding in response")
                }
                sawTransferEncoding = true
            }
        }
        if sawTransferEncoding && length != nil {
            throw .invalidResponse("response has both Content-Length and Transfer-Encoding")
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
