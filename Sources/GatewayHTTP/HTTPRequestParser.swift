/// Incremental, strict HTTP/1.1 request parser (RFC 9112). Bytes in, events out.
///
/// Contract: call `parse(input)` with the bytes not yet consumed; it returns at most one
/// event and how many bytes of `input` it consumed. Drop the consumed prefix and call
/// again while `consumed > 0 || event != nil`; when both are empty it needs more bytes.
/// A head is only returned once complete (the caller keeps the partial head buffered;
/// the parser refuses with 431/414 once the buffered head exceeds the limits).
///
/// Cost: the buffered head is scanned once (`HTTPHeadScanner`), each line validated as its
/// CRLF arrives; the parser remembers how far it got, so feeding a head one byte at a time
/// stays linear. A complete head is copied once; its fields are byte ranges of that copy
/// (`HTTPField`), Strings are built only for the method and target. Body bytes are never
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

    /// The request head being received.
    private var headScanner: HTTPHeadScanner
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
        self.headScanner = HTTPHeadScanner(limits: limits)
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
                guard let (head, headEnd) = try headScanner.scan(rest) else { return (nil, pos) }
                headBytes = headEnd
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

    private mutating func finishRequest() {
        state = .head
        headScanner.reset()
        headBytes = 0
        trailerBytes = 0
        trailerScanned = 0
        announcedBodyBytes = 0
    }
}
