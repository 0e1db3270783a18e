/// Incremental, strict HTTP/1.1 request parser (RFC 9112). Bytes in, events out.
///
/// Contract: call `parse(input)` with the bytes not yet consumed; it returns at most one
/// event and how many bytes of `input` it consumed. Drop the consumed prefix and call
/// again while `consumed > 0 || event != nil`; when both are empty it needs more bytes.
/// A head is only returned once complete (the caller keeps the partial head buffered;
/// the parser refuses with 431/414 once the buffered head exceeds the limits).
///
/// Cost: the buffered head is scanned once for line ends; the parser remembers how far
/// it got, so feeding a head one byte at a time stays linear. Strings are built only for
/// the method, target and field names/values of a complete head. Body bytes are never
/// copied: `.body` events are ranges of the caller's input.
///
/// Strictness (all refusals close the connection): only CRLF line endings (no bare CR
/// or LF, RFC 9112 §2.2), no obs-fold (§5.2), no whitespace before the colon (§5.1),
/// token field names, field values without CTLs (RFC 9110 §5.5), exactly one Host on
/// HTTP/1.1 (RFC 9112 §3.2), Content-Length and Transfer-Encoding never together, at
/// most one Content-Length field holding only digits, and `Transfer-Encoding` only as a
/// single `chunked` on HTTP/1.1 (RFC 9112 §6.1, §6.3); request-target forms per §3.2
/// (absolute-form only when its authority equals Host, `*` only for OPTIONS, no
/// authority-form; CONNECT: 405) and no expectation but `100-continue` (417).
public struct HTTPRequestParser: Sendable {
    private enum State: Sendable {
        /// Waiting for (the rest of) a request head.
        case head
        /// `.none` framing: `.end` is due.
        case endPending
        /// Content-Length body with this many bytes still to come.
        case fixedBody(remaining: UInt64)
        /// Reading the hex digits of a chunk-size (RFC 9112 §7.1).
        case chunkSize
        /// Skipping a chunk-ext up to its CR.
        case chunkExtension
        /// After the CR of a chunk-size line.
        case chunkSizeLF
        /// Inside chunk-data.
        case chunkData(remaining: UInt64)
        /// The CR, then LF, that must follow chunk-data.
        case chunkDataCR
        case chunkDataLF
        /// Reading the trailer section (RFC 9112 §7.1.2), one line at a time.
        case trailers
        /// An error was thrown; the parser must not be used again.
        case failed
    }

    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09

    /// At most this many empty lines before a request-line are ignored (RFC 9112 §2.2).
    public static let maxLeadingEmptyLines = 4
    /// At most this many hex digits in a chunk-size (so the value fits in `UInt64`).
    public static let maxChunkSizeDigits = 16
    /// At most this many bytes of chunk extensions per chunk-size line.
    public static let maxChunkExtensionBytes = 4096

    private let limits: HTTPParserLimits
    private var state: State = .head

    // Head scanning, offsets relative to the first unconsumed byte (the head start).
    /// How far the buffered head has been scanned already.
    private var headScanned = 0
    /// Start of the line being scanned.
    private var lineStart = 0
    /// Start of the request-line, or -1 while only empty lines were seen.
    private var requestLineStart = -1
    /// Offset of the CR ending the request-line.
    private var requestLineEnd = 0
    private var leadingEmptyLines = 0
    /// Size of the last head, for the trailer budget.
    private var headBytes = 0

    // Chunked decoding.
    private var chunkSizeValue: UInt64 = 0
    private var chunkSizeDigits = 0
    private var chunkExtensionBytes = 0
    /// The chunk-ext grammar of the current chunk-size line.
    private var chunkExtension = ChunkExtensionScanner()
    /// Sum of the chunk sizes announced so far in this request's body.
    private var announcedBodyBytes: UInt64 = 0
    /// Trailer bytes accepted so far for this request.
    private var trailerBytes = 0
    /// How far the current (incomplete) trailer line has been scanned.
    private var trailerScanned = 0

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Parses as far as `input` allows, returning at most one event.
    /// - Parameter input: the bytes not consumed by earlier calls, starting with any
    ///   partial head the caller kept buffered.
    /// - Returns: the event found (if any) and the number of bytes of `input` consumed;
    ///   `.body` ranges are offsets into `input`.
    /// - Throws: `HTTPParseError`; after an error the parser must not be used again.
    public mutating func parse(_ input: UnsafeRawBufferPointer) throws(HTTPParseError) -> (event: HTTPParserEvent?, consumed: Int) {
        if case .failed = state { throw .badRequest("parser used after an error") }
        do throws(HTTPParseError) {
            return try step(input)
        } catch {
            state = .failed
            throw error
        }
    }

    // MARK: - State machine

    private mutating func step(_ input: UnsafeRawBufferPointer) throws(HTTPParseError) -> (event: HTTPParserEvent?, consumed: Int) {
        let n = input.count
        var pos = 0
        while true {
            switch state {
            case .failed:
                throw .badRequest("parser used after an error")

            case .head:
                let rest = UnsafeRawBufferPointer(rebasing: input[pos...])
                guard let headEnd = try scanHead(rest) else { return (nil, pos) }
                let head = try buildHead(rest, headEnd: headEnd)
                headBytes = headEnd
                resetHeadScan()
                switch head.framing {
                case .none: state = .endPending
                case .contentLength(let length): state = .fixedBody(remaining: length)
                case .chunked: startChunk()
                }
                return (.head(head), pos + headEnd)

            case .endPending:
                finishRequest()
                return (.end, pos)

            case .fixedBody(let remaining):
                if remaining == 0 {
                    finishRequest()
                    return (.end, pos)
                }
                let available = n - pos
                if available == 0 { return (nil, pos) }
                let take = Int(min(UInt64(available), remaining))
                state = .fixedBody(remaining: remaining - UInt64(take))
                return (.body(pos..<(pos + take)), pos + take)

            case .chunkSize:
                // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (RFC 9112 §7.1)
                guard pos < n else { return (nil, pos) }
                let b = input[pos]
                if let digit = HTTPSyntax.hexValue(b) {
                    chunkSizeDigits += 1
                    if chunkSizeDigits > Self.maxChunkSizeDigits {
                        throw .badRequest("chunk size too large")
                    }
                    // With at most 16 hex digits the value cannot overflow a UInt64.
                    chunkSizeValue = chunkSizeValue << 4 | UInt64(digit)
                    pos += 1
                } else if chunkSizeDigits == 0 {
                    throw .badRequest("invalid chunk size")
                } else if b == Self.cr {
                    try checkAnnouncedSize()
                    pos += 1
                    state = .chunkSizeLF
                } else if b == UInt8(ascii: ";") || b == Self.sp || b == Self.htab {
                    try checkAnnouncedSize()
                    // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
                    state = .chunkExtension
                } else {
                    throw .badRequest("invalid chunk size")
                }

            case .chunkExtension:
                // Extensions are ignored (RFC 9112 §7.1.1) but must follow the grammar, bounded.
                while pos < n {
                    let b = input[pos]
                    if b == Self.cr { break }
                    if b == Self.lf { throw .badRequest("bare LF in chunk line") }
                    try chunkExtension.feed(b)
                    chunkExtensionBytes += 1
                    if chunkExtensionBytes > Self.maxChunkExtensionBytes {
                        throw .badRequest("chunk extension too long")
                    }
                    pos += 1
                }
                guard pos < n else { return (nil, pos) }
                guard chunkExtension.mayEnd else { throw .badRequest("invalid chunk extension") }
                pos += 1
                state = .chunkSizeLF

            case .chunkSizeLF:
                guard pos < n else { return (nil, pos) }
                guard input[pos] == Self.lf else { throw .badRequest("bare CR in chunk line") }
                pos += 1
                if chunkSizeValue == 0 {
                    // last-chunk: the trailer section follows (RFC 9112 §7.1.2).
                    trailerBytes = 0
                    trailerScanned = 0
                    state = .trailers
                } else {
                    announcedBodyBytes &+= chunkSizeValue
                    state = .chunkData(remaining: chunkSizeValue)
                }

            case .chunkData(let remaining):
                let available = n - pos
                if available == 0 { return (nil, pos) }
                let take = Int(min(UInt64(available), remaining))
                let left = remaining - UInt64(take)
                state = left == 0 ? .chunkDataCR : .chunkData(remaining: left)
                return (.body(pos..<(pos + take)), pos + take)

            case .chunkDataCR:
                guard pos < n else { return (nil, pos) }
                guard input[pos] == Self.cr else { throw .badRequest("chunk data not followed by CRLF") }
                pos += 1
                state = .chunkDataLF

            case .chunkDataLF:
                guard pos < n else { return (nil, pos) }
                guard input[pos] == Self.lf else { throw .badRequest("chunk data not followed by CRLF") }
                pos += 1
                startChunk()

            case .trailers:
                // trailer-section = *( field-line CRLF ), then CRLF. Parsed, bounded, discarded.
                let budget = limits.maxHeaderBytes - headBytes
                var i = pos + trailerScanned
                var lineEnd = -1
                while i < n {
                    let b = input[i]
                    if b == Self.cr {
                        if i + 1 >= n { break }
                        guard input[i + 1] == Self.lf else { throw .badRequest("bare CR in trailer") }
                        lineEnd = i
                        break
                    }
                    if b == Self.lf { throw .badRequest("bare LF in trailer") }
                    i += 1
                    if trailerBytes + (i - pos) > budget { throw .headerTooLarge }
                }
                guard lineEnd >= 0 else {
                    trailerScanned = i - pos
                    return (nil, pos)
                }
                trailerScanned = 0
                if lineEnd == pos {
                    finishRequest()
                    return (.end, lineEnd + 2)
                }
                _ = try Self.fieldLine(input, lineStart: pos, lineEnd: lineEnd)
                trailerBytes += lineEnd + 2 - pos
                if trailerBytes > budget { throw .headerTooLarge }
                pos = lineEnd + 2
            }
        }
    }

    /// Once a chunk-size is complete (before its extensions and data): 413 when the sizes
    /// announced so far pass `maxBodyBytes`. (A size over 16 hex digits was already 400.)
    private func checkAnnouncedSize() throws(HTTPParseError) {
        guard let max = limits.maxBodyBytes else { return }
        let (total, overflow) = announcedBodyBytes.addingReportingOverflow(chunkSizeValue)
        if overflow || total > max { throw .contentTooLarge }
    }

    private mutating func startChunk() {
        chunkSizeValue = 0
        chunkSizeDigits = 0
        chunkExtensionBytes = 0
        chunkExtension = ChunkExtensionScanner()
        state = .chunkSize
    }

    private mutating func resetHeadScan() {
        headScanned = 0
        lineStart = 0
        requestLineStart = -1
        requestLineEnd = 0
        leadingEmptyLines = 0
    }

    private mutating func finishRequest() {
        state = .head
        resetHeadScan()
        headBytes = 0
        trailerBytes = 0
        trailerScanned = 0
        announcedBodyBytes = 0
    }

    // MARK: - Head

    /// Scans the buffered head for line ends from where the last call stopped, enforcing
    /// CRLF-only line endings (RFC 9112 §2.2) and the size limits.
    /// - Returns: the head length including its final empty line, or nil when incomplete.
    private mutating func scanHead(_ buf: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int? {
        let n = buf.count
        let maxHead = limits.maxHeaderBytes
        let maxLine = limits.maxRequestLineBytes
        var i = headScanned
        defer { headScanned = i }
        while i < n {
            let b = buf[i]
            if b > Self.cr {
                // Fast path: an ordinary byte.
                i += 1
                if requestLineStart < 0 && i - lineStart > maxLine { throw .uriTooLong }
                if i > maxHead { throw .headerTooLarge }
                continue
            }
            if b == Self.lf { throw .badRequest("bare LF line ending") }
            if b != Self.cr {
                i += 1
                if requestLineStart < 0 && i - lineStart > maxLine { throw .uriTooLong }
                if i > maxHead { throw .headerTooLarge }
                continue
            }
            // CR: the LF must follow.
            if i + 1 >= n { return nil }
            guard buf[i + 1] == Self.lf else { throw .badRequest("bare CR") }
            if i + 2 > maxHead { throw .headerTooLarge }
            let lineLength = i - lineStart
            if requestLineStart < 0 {
                if lineLength == 0 {
                    // RFC 9112 §2.2: empty lines before the request-line may be ignored.
                    leadingEmptyLines += 1
                    if leadingEmptyLines > Self.maxLeadingEmptyLines {
                        throw .badRequest("too many empty lines before request line")
                    }
                } else {
                    requestLineStart = lineStart
                    requestLineEnd = i
                }
            } else if lineLength == 0 {
                i += 2
                return i
            }
            i += 2
            lineStart = i
        }
        return nil
    }

    /// Parses and validates a complete head `buf[0..<headEnd]`.
    private func buildHead(_ buf: UnsafeRawBufferPointer, headEnd: Int) throws(HTTPParseError) -> HTTPRequestHead {
        // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
        let rlStart = requestLineStart
        let rlEnd = requestLineEnd
        var i = rlStart
        while i < rlEnd && HTTPSyntax.isTokenChar(buf[i]) { i += 1 }
        let methodEnd = i
        guard methodEnd > rlStart else { throw .badRequest("invalid method") }
        guard i < rlEnd, buf[i] == Self.sp else {
            throw .badRequest(i < rlEnd && buf[i] != Self.sp ? "invalid method" : "malformed request line")
        }
        i += 1
        let targetStart = i
        // request-target: visible ASCII only (RFC 9112 §3.2, RFC 3986 §2).
        while i < rlEnd && buf[i] > Self.sp && buf[i] < 0x7F { i += 1 }
        let targetEnd = i
        guard targetEnd > targetStart else { throw .badRequest("malformed request line") }
        guard i < rlEnd else { throw .badRequest("malformed request line") }
        guard buf[i] == Self.sp else { throw .badRequest("invalid character in request target") }
        i += 1
        let version = try Self.version(buf, from: i, to: rlEnd)

        // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5)
        var fields: [HTTPField] = []
        fields.reserveCapacity(16)
        var hostCount = 0
        var contentLength: UInt64?
        var transferEncodingCount = 0
        var chunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        var expectsContinue = false

        var lineStart = rlEnd + 2
        let fieldsEnd = headEnd - 2
        while lineStart < fieldsEnd {
            var lineEnd = lineStart
            while buf[lineEnd] != Self.cr { lineEnd += 1 }
            let (nameRange, valueRange) = try Self.fieldLine(buf, lineStart: lineStart, lineEnd: lineEnd)
            lineStart = lineEnd + 2

            switch nameRange.count {
            case 4 where Self.equalsLowercase(buf, nameRange, "host"):
                hostCount += 1
                if hostCount > 1 { throw .badRequest("several Host fields") }
                if !HTTPSyntax.isValidHostValue(UnsafeRawBufferPointer(rebasing: buf[valueRange])) {
                    throw .badRequest("invalid Host field")
                }
            case 14 where Self.equalsLowercase(buf, nameRange, "content-length"):
                // RFC 9112 §6.3: several or invalid lengths are unrecoverable. Strict: one field, digits only.
                if contentLength != nil { throw .badRequest("several Content-Length fields") }
                contentLength = try Self.contentLength(buf, valueRange)
            case 17 where Self.equalsLowercase(buf, nameRange, "transfer-encoding"):
                transferEncodingCount += 1
                if transferEncodingCount > 1 { throw .badRequest("several Transfer-Encoding fields") }
                // Only exactly "chunked": anything else is a smuggling vector or unsupported.
                chunked = Self.equalsLowercase(buf, valueRange, "chunked")
                if !chunked { throw .badRequest("unsupported Transfer-Encoding") }
            case 10 where Self.equalsLowercase(buf, nameRange, "connection"):
                // RFC 9112 §9.3, §9.6: comma-separated, case-insensitive options.
                Self.forEachListElement(buf, valueRange) { element in
                    if Self.equalsLowercase(buf, element, "close") { connectionClose = true }
                    if Self.equalsLowercase(buf, element, "keep-alive") { connectionKeepAlive = true }
                }
            case 6 where Self.equalsLowercase(buf, nameRange, "expect"):
                // RFC 9110 §10.1.1: 100-continue is the only expectation; any other: 417.
                var unsupported = false
                Self.forEachListElement(buf, valueRange) { element in
                    if Self.equalsLowercase(buf, element, "100-continue") {
                        expectsContinue = true
                    } else {
                        unsupported = true
                    }
                }
                if unsupported { throw .expectationFailed }
            default:
                break
            }
            fields.append(HTTPField(name: Self.string(buf, nameRange),
                                    value: try Self.valueString(buf, valueRange)))
        }

        // RFC 9112 §3.2: a 1.1 request without Host, or any with several, gets 400.
        if version == .http11 && hostCount == 0 { throw .badRequest("missing Host field") }
        try Self.checkTarget(buf, method: rlStart..<methodEnd, target: targetStart..<targetEnd, fields: fields)
        // RFC 9112 §6.1: Transfer-Encoding with Content-Length may be smuggling; refuse.
        if transferEncodingCount > 0 && contentLength != nil {
            throw .badRequest("both Content-Length and Transfer-Encoding")
        }
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is untrustworthy framing.
        if transferEncodingCount > 0 && version == .http10 {
            throw .badRequest("Transfer-Encoding in HTTP/1.0 request")
        }

        let framing: RequestBodyFraming
        if chunked {
            framing = .chunked
        } else if let contentLength, contentLength > 0 {
            framing = .contentLength(contentLength)
        } else {
            framing = .none
        }
        let keepAlive: Bool
        switch version {
        case .http11: keepAlive = !connectionClose
        case .http10: keepAlive = connectionKeepAlive && !connectionClose
        }
        return HTTPRequestHead(
            method: Self.string(buf, rlStart..<methodEnd),
            target: Self.string(buf, targetStart..<targetEnd),
            version: version,
            fields: fields,
            framing: framing,
            keepAlive: keepAlive,
            // RFC 9110 §10.1.1: a 100-continue expectation in HTTP/1.0 is ignored.
            expectsContinue: expectsContinue && version == .http11)
    }
}
