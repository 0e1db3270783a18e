import GatewayHTTP

/// Strict, bounded parser for the lines of an upstream response head, one complete line per
/// call (RFC 9112 §2.1, §4, §5): from `UpstreamResponseReader` on the direct path, from
/// libcurl's CURLOPT_HEADERFUNCTION otherwise.
///
/// Pure: no I/O. Lines arrive with their line terminator ("\r\n", or a bare "\n",
/// which RFC 9112 §2.2 lets a recipient accept). Interim 1xx responses are skipped
/// (RFC 9110 §15.2); the head of the final response is returned once its empty line
/// arrives. Lines after that are trailer fields (RFC 9112 §7.1.2); they are counted
/// against their own limit and otherwise ignored.
///
/// Each field line is scanned in place, once, and copied into the head's `lines` in the
/// form a client is sent (`UpstreamResponseHead`); no String is built. The framing fields
/// (`Content-Length`, `Transfer-Encoding`) are checked while their lines are scanned
/// (`ResponseFramingCheck`). A line the scan refuses is looked at again, rule by rule, only
/// to name what is wrong with it.
struct ResponseHeadParser: Sendable {
    /// Limit on all head bytes (interim responses included), and separately on trailer bytes.
    static let maxHeadBytes = 64 * 1024

    /// The final response head.
    typealias Head = UpstreamResponseHead

    private var headBytes = 0
    private var trailerBytes = 0
    /// The status of the head being read; 0 before its status line.
    private var status = 0
    /// The fields of the final head read so far (an interim head's are not kept); the final
    /// head once returned.
    private var head = UpstreamResponseHead()
    private var framing = ResponseFramingCheck()
    /// The status line of the head being read says HTTP/1.1.
    private var http11 = true
    /// True once the final head was returned.
    private(set) var isComplete = false

    /// Consumes one line.
    /// - Returns: the final head when `line` is the empty line that ends it, else nil.
    /// - Throws: `UpstreamError.invalidResponse` for a line that breaks the grammar,
    ///   a head (or trailer section) over `maxHeadBytes`, a `101` (no upgrade was
    ///   requested), or framing fields that contradict each other (RFC 9112 §6.3).
    mutating func consume(_ line: UnsafeRawBufferPointer) throws(UpstreamError) -> Head? {
        var pending = PendingLines()
        guard let head = try consumeLine(line, &pending) else {
            flush(&pending)
            return nil
        }
        return head
    }

    /// Consumes the complete lines at the start of `input` (each up to and including its LF),
    /// as `consume` does one by one, until the final head is complete. Field lines that are
    /// already in the form `UpstreamResponseHead.lines` keeps, back to back in `input`, are
    /// copied together.
    /// - Returns: the final head if it completed (else nil), and how many bytes were used:
    ///   up to the end of the head, else up to the end of the last complete line.
    mutating func consumeLines(_ input: UnsafeRawBufferPointer) throws(UpstreamError) -> (head: Head?, used: Int) {
        var pending = PendingLines()
        var i = 0
        while let lf = UpstreamResponseReader.firstLF(input, from: i) {
            let line = UnsafeRawBufferPointer(rebasing: input[i...lf])
            i = lf + 1
            if let head = try consumeLine(line, &pending) { return (head, i) }
        }
        flush(&pending)
        return (nil, i)
    }

    /// Field lines recorded in the head but not copied into its `lines` yet: `count` bytes at
    /// `base`, inside the input of the current call (never kept past it).
    private struct PendingLines {
        var base: UnsafeRawPointer?
        var count = 0
    }

    /// Copies the pending lines into the head.
    private mutating func flush(_ pending: inout PendingLines) {
        guard let base = pending.base else { return }
        head.appendLines(UnsafeRawBufferPointer(start: base, count: pending.count))
        pending = PendingLines()
    }

    private mutating func consumeLine(_ line: UnsafeRawBufferPointer, _ pending: inout PendingLines) throws(UpstreamError) -> Head? {
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
        let count = line.count
        guard count > 0, line[count - 1] == 0x0A else { throw .invalidResponse("response line without line terminator") }
        // Content ends before "\r\n" or a bare "\n".
        let end = count > 1 && line[count - 2] == 0x0D ? count - 2 : count - 1
        if status == 0 {
            let content = try Self.stripTerminator(line)
            status = try Self.parseStatusLine(content)
            http11 = content[7] == 0x31
            return nil
        }
        if end > 0 {
            try parseFieldLine(line, contentEnd: end, &pending)
            return nil
        }
        // The empty line ends this response head (RFC 9112 §2.1).
        if status < 200 {
            // Interim response (RFC 9110 §15.2): discard and wait for the next status line.
            status = 0
            framing = ResponseFramingCheck()
            return nil
        }
        try framing.finish()
        flush(&pending)
        isComplete = true
        // Kept as well (sharing its bytes, never changed again) rather than reset: the parser
        // is done with heads.
        head.status = status
        head.contentLength = framing.length
        head.chunked = framing.isChunked
        head.persistent = http11 && !head.connectionOptions.contains(.close)
        head.framingChecked = true
        return head
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

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5, RFC 9110 §5.1, §5.5):
    /// one pass over `line[0..<contentEnd]` (`line` still ends with its terminator). The name
    /// must be a token, with no whitespace before the colon (RFC 9112 §5.1); the value may hold
    /// HTAB, SP, VCHAR and obs-text, which excludes CR, LF, NUL, DEL and other CTLs.
    private mutating func parseFieldLine(_ line: UnsafeRawBufferPointer, contentEnd end: Int,
                                         _ pending: inout PendingLines) throws(UpstreamError) {
        var colon = 0
        while colon < end, Self.isTokenByte(line[colon]) { colon += 1 }
        guard colon > 0, colon < end, line[colon] == 0x3A else { throw Self.fieldLineError(line) }
        var start = colon + 1
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        var i = start
        // Eight bytes at a time while they are all SP or VCHAR, the usual value, the last
        // eight overlapping the ones before; the first word that holds anything else (HTAB,
        // obs-text, a refused byte), and a value under eight bytes, are checked byte by byte.
        while i + 8 <= end {
            let word = UInt64(littleEndian: line.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            if Self.holdsOtherThanPrintableASCII(word) { break }
            i += 8
        }
        if i < end && end - start >= 8 && i + 8 > end {
            let last = UInt64(littleEndian: line.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self))
            if !Self.holdsOtherThanPrintableASCII(last) { i = end }
        }
        var seen: UInt8 = 0
        while i < end {
            let c = line[i]
            guard HTTPSyntax.isFieldValueByte(c) else { throw Self.fieldLineError(line) }
            seen |= c
            i += 1
        }
        var valueEnd = end
        while valueEnd > start, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        // Interim (1xx) heads are discarded whole: their fields are checked, not kept.
        guard status >= 200 else {
            if seen >= 0x80 { try Self.checkUTF8(UnsafeRawBufferPointer(rebasing: line[start..<valueEnd])) }
            return
        }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        let value = UnsafeRawBufferPointer(rebasing: line[start..<valueEnd])
        let kind: UpstreamResponseHead.FieldKind
        if start == colon + 2 && line[colon + 1] == 0x20 && valueEnd == end && end == line.count - 2 {
            // Already `name ": " value CRLF`, the usual case: copied later, with the lines
            // around it.
            if pending.base.map({ $0 + pending.count }) != line.baseAddress {
                flush(&pending)
                pending.base = line.baseAddress
            }
            kind = head.recordLine(line, at: head.lines.count + pending.count, nameCount: colon)
            pending.count += line.count
        } else {
            flush(&pending)
            kind = head.appendField(name: name, value: value)
        }
        if kind == .contentLength || kind == .transferEncoding { try framing.inspect(name: name, value: value) }
        // Values may become Swift strings later; refuse bytes that would not survive
        // unchanged. A token is ASCII, so the name always decodes exactly.
        if seen >= 0x80 { try Self.checkUTF8(value) }
    }

    /// Whether `byte` is a `tchar` (RFC 9110 §5.6.2), as `HTTPSyntax.isTokenChar` says, from
    /// two 64-bit masks: bit `b % 64` of the mask for `b / 64` (bytes from 0x80 never are).
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        let below64: UInt64 = 0x03FF_6CFA_0000_0000  // ! # $ % & ' * + - . 0-9
        let from64: UInt64 = 0x57FF_FFFF_C7FF_FFFE  // A-Z ^ _ ` a-z | ~
        guard byte < 0x80 else { return false }
        return ((byte < 0x40 ? below64 : from64) >> UInt64(byte & 0x3F)) & 1 != 0
    }

    /// Whether any of the eight bytes of `word` is outside 0x20...0x7E (SP and VCHAR): a CTL
    /// (below 0x20), DEL or obs-text. Exact: the lowest such byte always shows (the borrow
    /// that could blur the test only runs upwards from it).
    @inline(__always)
    static func holdsOtherThanPrintableASCII(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- 0x20 &* ones) & ~word & highs
        let del = word ^ (0x7F &* ones)
        let isDel = (del &- ones) & ~del & highs
        return (control | isDel | (word & highs)) != 0
    }

    private static func checkUTF8(_ value: UnsafeRawBufferPointer) throws(UpstreamError) {
        if String(validating: value.assumingMemoryBound(to: UInt8.self), as: UTF8.self) == nil {
            throw .invalidResponse("response field value is not UTF-8")
        }
    }

    /// What is wrong with a field line `parseFieldLine` refused, checked rule by rule in the
    /// order a reader would: terminator and bare CR/LF/NUL, obs-fold, the name, the value.
    private static func fieldLineError(_ line: UnsafeRawBufferPointer) -> UpstreamError {
        let content: UnsafeRawBufferPointer
        do throws(UpstreamError) {
            content = try stripTerminator(line)
        } catch {
            return error
        }
        let first = content[0]
        if first == 0x20 || first == 0x09 {
            // obs-fold: a gateway must reject or unfold it (RFC 9112 §5.2); we reject.
            return .invalidResponse("obsolete line folding in response head")
        }
        var colon = 0
        while colon < content.count, content[colon] != 0x3A {
            guard HTTPSyntax.isTokenChar(content[colon]) else {
                return .invalidResponse(content[colon...].contains(0x3A)
                                        ? "invalid response field name" : "response field line without colon")
            }
            colon += 1
        }
        guard colon < content.count else { return .invalidResponse("response field line without colon") }
        guard colon > 0 else { return .invalidResponse("invalid response field name") }
        return .invalidResponse("control character in response field value")
    }

    /// token = 1*tchar (RFC 9110 §5.6.2): methods and field names (`HTTPSyntax.isToken`).
    static func isToken(_ text: String) -> Bool { HTTPSyntax.isToken(text) }
}
