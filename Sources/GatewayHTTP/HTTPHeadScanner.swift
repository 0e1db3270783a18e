/// One pass over a request head (RFC 9112 §2.2, §3, §5) for `HTTPRequestParser`: finds the
/// line ends, validates each line as its CRLF arrives, and records field positions; each
/// byte is looked at once (field values 8 bytes at a time), and a head fed in pieces
/// resumes where the last piece stopped, so the work stays linear in the head size.
///
/// Errors come in the order the whole-head checks always had: framing errors (bare CR or
/// LF, too many leading empty lines) and size limits (414, 431) at once; a line's syntax or
/// meaning error is kept (the first one wins) and thrown when the head is complete, so the
/// request line's error comes before any field line's, and those in line order.
///
/// Offsets are relative to the first byte of the head; the caller keeps the partial head
/// buffered and passes it again, with more bytes, from the same start.
struct HTTPHeadScanner: Sendable {
    private enum Phase: UInt8, Sendable {
        /// Leading empty lines, then the request-line.
        case requestLine
        /// The first byte of a field line, or the CR of the empty line ending the head.
        case lineStart
        /// Inside a field name (up to the colon).
        case name
        /// After the colon: OWS and the field value.
        case value
        /// The rest of a line that already failed: only its end matters.
        case skipLine
    }

    /// Positions of one field line.
    private struct Span: Sendable {
        var nameStart: Int32, nameEnd: Int32, valueStart: Int32, valueEnd: Int32
    }

    private static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, sp: UInt8 = 0x20, htab: UInt8 = 0x09

    private let maxHead: Int
    private let maxLine: Int

    private var scanned = 0
    private var phase = Phase.requestLine
    private var lineStart = 0
    private var leadingEmptyLines = 0
    /// The first syntax or meaning error of this head, thrown once the head is complete.
    private var pending: HTTPParseError?

    // Request-line.
    private var methodRange = 0..<0
    private var targetRange = 0..<0
    private var version = HTTPVersion.http11

    // The field line being scanned.
    private var nameEnd = 0
    private var valueStart = -1
    private var valueEnd = 0
    /// OR of every value byte: bit 7 set when obs-text was seen (then UTF-8 is checked).
    private var valueBits: UInt64 = 0

    // The fields so far (storage kept from head to head).
    /// The fields so far are `spans[..<spanCount]`; the rest are stale entries of earlier
    /// heads, overwritten in place (no shrinking and regrowing between requests).
    private var spans: [Span] = []
    private var spanCount = 0
    /// The last head's bytes (and maybe stale ones after them), to be overwritten by the
    /// next head once nothing else holds them (copy-on-write decides; otherwise the next head
    /// gets a copy). Kept only up to `reusableBytes`, so an idle connection holds little.
    private var lastHead: [UInt8] = []
    private static let reusableBytes = 2048
    private var hostIndex = -1
    private var hostCount = 0
    private var contentLength: UInt64?
    private var transferEncodingCount = 0
    private var chunked = false
    private var connectionClose = false
    private var connectionKeepAlive = false
    private var expectsContinue = false

    init(limits: HTTPParserLimits) {
        maxHead = limits.maxHeaderBytes
        maxLine = limits.maxRequestLineBytes
    }

    /// Forgets the current head (after it was returned, or between requests).
    mutating func reset() {
        scanned = 0
        phase = .requestLine
        lineStart = 0
        leadingEmptyLines = 0
        pending = nil
        spanCount = 0
        hostIndex = -1
        hostCount = 0
        contentLength = nil
        transferEncodingCount = 0
        chunked = false
        connectionClose = false
        connectionKeepAlive = false
        expectsContinue = false
    }

    /// Scans `buf` (the buffered head, from its first byte) from where the last call stopped.
    /// - Returns: the head and its length including the final CRLF, or nil when incomplete.
    /// - Throws: `HTTPParseError` (400, 405, 414, 417, 431, 505).
    mutating func scan(_ buf: UnsafeRawBufferPointer) throws(HTTPParseError) -> (head: HTTPRequestHead, length: Int)? {
        let n = buf.count
        guard n > scanned, let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        // Ordinary bytes may sit below `maxHead` only (one at `maxHead` makes the head too large).
        let limit = min(n, maxHead)
        var i = scanned
        while i < n {
            // Fast loops: bytes this phase accepts without a decision.
            switch phase {
            case .requestLine:
                let bound = min(limit, lineStart + maxLine)
                while i < bound && base[i] > Self.cr { i += 1 }
            case .lineStart:
                let b = base[i]
                if b != Self.cr {
                    if b == Self.sp || b == Self.htab {
                        fail(.badRequest("obs-fold line folding"))
                        phase = .skipLine
                    } else {
                        phase = .name
                    }
                    continue
                }
            case .name:
                while i < limit && HTTPSyntax.isTokenChar(base[i]) { i += 1 }
            case .value:
                i = scanValue(base, from: i, limit: limit)
            case .skipLine:
                while i < limit && base[i] > Self.cr { i += 1 }
            }
            guard i < n else { break }

            let b = base[i]
            if b == Self.cr {
                // CR: the LF must follow (RFC 9112 §2.2).
                guard i + 1 < n else {
                    scanned = i
                    return nil
                }
                guard base[i + 1] == Self.lf else { throw .badRequest("bare CR") }
                if i + 2 > maxHead { throw .headerTooLarge }
                if phase == .lineStart {
                    return try finish(buf, length: i + 2)
                }
                try lineEnded(buf, at: i)
                i += 2
                lineStart = i
                continue
            }
            if b == Self.lf { throw .badRequest("bare LF line ending") }
            // An ordinary byte the fast loop stopped at.
            if phase == .requestLine && i + 1 - lineStart > maxLine { throw .uriTooLong }
            if i + 1 > maxHead { throw .headerTooLarge }
            switch phase {
            case .name:
                if b == UInt8(ascii: ":") {
                    if i == lineStart {
                        fail(.badRequest("empty field name"))
                        phase = .skipLine
                    } else {
                        nameEnd = i
                        valueStart = -1
                        valueEnd = i + 1
                        valueBits = 0
                        phase = .value
                    }
                } else {
                    fail(.badRequest(b == Self.sp || b == Self.htab ? "whitespace before colon"
                                     : "invalid character in field name"))
                    phase = .skipLine
                }
            case .value:
                fail(.badRequest("invalid character in field value"))
                phase = .skipLine
            case .requestLine, .skipLine, .lineStart:
                break  // a CTL: the request-line check refuses it, or the line already failed
            }
            i += 1
        }
        scanned = i
        return nil
    }

    /// The field value from `i`: SP/HTAB and VCHAR/obs-text (RFC 9110 §5.5), 32, 16, then 8
    /// bytes at a time once the value has started; stops at a CTL (CR included), DEL or `limit`.
    private mutating func scanValue(_ base: UnsafePointer<UInt8>, from start: Int, limit: Int) -> Int {
        var i = start
        // Leading OWS.
        if valueStart < 0 {
            while i < limit && (base[i] == Self.sp || base[i] == Self.htab) { i += 1 }
            guard i < limit, base[i] > Self.sp, base[i] != 0x7F else { return i }
            valueStart = i
        }
        var bits = valueBits
        var end = valueEnd
        defer {
            valueBits = bits
            valueEnd = end
        }
        let raw = UnsafeRawPointer(base)
        while true {
            // Whole words while no byte is a CTL or DEL and the last one is not SP (maybe
            // trailing OWS): then the value runs at least to the word's end.
            while i + 32 <= limit {
                let w0 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                let w2 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
                let w3 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                if Self.controlBytes(w0) | Self.controlBytes(w1) | Self.controlBytes(w2) | Self.controlBytes(w3) != 0
                    || w3 >> 56 == UInt64(Self.sp) { break }
                bits |= w0 | w1 | w2 | w3
                i += 32
                end = i
            }
            if i + 16 <= limit {
                let w0 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                if Self.controlBytes(w0) | Self.controlBytes(w1) == 0 && w1 >> 56 != UInt64(Self.sp) {
                    bits |= w0 | w1
                    i += 16
                    end = i
                }
            }
            if i + 8 <= limit {
                let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                if Self.controlBytes(w) == 0 && w >> 56 != UInt64(Self.sp) {
                    bits |= w
                    i += 8
                    end = i
                }
            }
            // Up to 8 bytes one at a time, then words again.
            let stop = min(limit, i + 8)
            while i < stop {
                let b = base[i]
                if b > Self.sp && b != 0x7F {
                    bits |= UInt64(b)
                    i += 1
                    end = i
                } else if b == Self.sp || b == Self.htab {
                    i += 1
                } else {
                    return i
                }
            }
            if i >= limit { return i }
        }
    }

    /// The high bit of each byte of `w` that is a CTL (0x00...0x1F) or DEL (0x7F), exactly:
    /// for a byte without its high bit, `low + 0x60` has it set when `low >= 0x20`, and
    /// `low + 0x01` has it set when `low == 0x7F`; no sum carries into the next byte.
    @inline(__always)
    private static func controlBytes(_ w: UInt64) -> UInt64 {
        let highs: UInt64 = 0x8080_8080_8080_8080
        let low = w & ~highs
        let visible = low &+ 0x6060_6060_6060_6060
        let del = low &+ 0x0101_0101_0101_0101
        return (~visible | del) & ~w & highs
    }

    private mutating func fail(_ error: HTTPParseError) {
        if pending == nil { pending = error }
    }

    /// A line `lineStart..<lineEnd` (before its CRLF) is complete.
    private mutating func lineEnded(_ buf: UnsafeRawBufferPointer, at lineEnd: Int) throws(HTTPParseError) {
        switch phase {
        case .requestLine:
            if lineEnd == lineStart {
                // RFC 9112 §2.2: empty lines before the request-line may be ignored.
                leadingEmptyLines += 1
                if leadingEmptyLines > HTTPRequestParser.maxLeadingEmptyLines {
                    throw .badRequest("too many empty lines before request line")
                }
                return
            }
            requestLine(buf, lineStart..<lineEnd)
        case .name:
            fail(.badRequest("field line without colon"))
        case .value:
            if valueStart < 0 { valueStart = lineEnd; valueEnd = lineEnd }
            if pending == nil { field(buf, name: lineStart..<nameEnd, value: valueStart..<valueEnd) }
        case .lineStart, .skipLine:
            break
        }
        phase = .lineStart
    }

    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3).
    private mutating func requestLine(_ buf: UnsafeRawBufferPointer, _ line: Range<Int>) {
        let rlStart = line.lowerBound, rlEnd = line.upperBound
        var i = rlStart
        while i < rlEnd && HTTPSyntax.isTokenChar(buf[i]) { i += 1 }
        let methodEnd = i
        guard methodEnd > rlStart else { return fail(.badRequest("invalid method")) }
        guard i < rlEnd, buf[i] == Self.sp else {
            return fail(.badRequest(i < rlEnd && buf[i] != Self.sp ? "invalid method" : "malformed request line"))
        }
        i += 1
        let targetStart = i
        // request-target: visible ASCII only (RFC 9112 §3.2, RFC 3986 §2).
        while i < rlEnd && buf[i] > Self.sp && buf[i] < 0x7F { i += 1 }
        let targetEnd = i
        guard targetEnd > targetStart, i < rlEnd else { return fail(.badRequest("malformed request line")) }
        guard buf[i] == Self.sp else { return fail(.badRequest("invalid character in request target")) }
        do throws(HTTPParseError) {
            version = try HTTPRequestParser.version(buf, from: i + 1, to: rlEnd)
        } catch {
            return fail(error)
        }
        methodRange = rlStart..<methodEnd
        targetRange = targetStart..<targetEnd
    }

    /// One complete, well-formed field line: the fields whose meaning the parser enforces,
    /// then the value's UTF-8 check, then its position is kept.
    private mutating func field(_ buf: UnsafeRawBufferPointer, name: Range<Int>, value: Range<Int>) {
        let nameBytes = UnsafeRawBufferPointer(rebasing: buf[name])
        let valueBytes = UnsafeRawBufferPointer(rebasing: buf[value])
        switch name.count {
        case 4 where HTTPSyntax.equalsLowercase(nameBytes, "host"):
            hostCount += 1
            if hostCount > 1 { return fail(.badRequest("several Host fields")) }
            if !HTTPSyntax.isValidHostValue(valueBytes) { return fail(.badRequest("invalid Host field")) }
            hostIndex = spanCount
        case 14 where HTTPSyntax.equalsLowercase(nameBytes, "content-length"):
            // RFC 9112 §6.3: several or invalid lengths are unrecoverable. Strict: one field, digits only.
            if contentLength != nil { return fail(.badRequest("several Content-Length fields")) }
            do throws(HTTPParseError) {
                contentLength = try HTTPRequestParser.contentLength(buf, value)
            } catch {
                return fail(error)
            }
        case 17 where HTTPSyntax.equalsLowercase(nameBytes, "transfer-encoding"):
            transferEncodingCount += 1
            if transferEncodingCount > 1 { return fail(.badRequest("several Transfer-Encoding fields")) }
            // Only exactly "chunked": anything else is a smuggling vector or unsupported.
            chunked = HTTPSyntax.equalsLowercase(valueBytes, "chunked")
            if !chunked { return fail(.badRequest("unsupported Transfer-Encoding")) }
        case 10 where HTTPSyntax.equalsLowercase(nameBytes, "connection"):
            // RFC 9112 §9.3, §9.6: comma-separated, case-insensitive options.
            HTTPSyntax.forEachListElement(valueBytes) { element in
                if HTTPSyntax.equalsLowercase(element, "close") { connectionClose = true }
                if HTTPSyntax.equalsLowercase(element, "keep-alive") { connectionKeepAlive = true }
            }
        case 6 where HTTPSyntax.equalsLowercase(nameBytes, "expect"):
            // RFC 9110 §10.1.1: 100-continue is the only expectation; any other: 417.
            var unsupported = false
            HTTPSyntax.forEachListElement(valueBytes) { element in
                if HTTPSyntax.equalsLowercase(element, "100-continue") { expectsContinue = true } else { unsupported = true }
            }
            if unsupported { return fail(.expectationFailed) }
        default:
            break
        }
        // obs-text is accepted only when it is valid UTF-8, so the value read as a String
        // holds exactly the bytes received and forwards them unchanged.
        if valueBits & 0x8080_8080_8080_8080 != 0 && String(validating: valueBytes, as: UTF8.self) == nil {
            return fail(.badRequest("field value is not valid UTF-8"))
        }
        let span = Span(nameStart: Int32(name.lowerBound), nameEnd: Int32(name.upperBound),
                        valueStart: Int32(value.lowerBound), valueEnd: Int32(value.upperBound))
        if spanCount < spans.count { spans[spanCount] = span } else { spans.append(span) }
        spanCount += 1
    }

    /// The empty line ended the head `buf[0..<length]`: the head-wide rules, then the head.
    private mutating func finish(_ buf: UnsafeRawBufferPointer, length: Int) throws(HTTPParseError) -> (head: HTTPRequestHead, length: Int) {
        if let pending { throw pending }
        // RFC 9112 §3.2: a 1.1 request without Host, or any with several, gets 400.
        if version == .http11 && hostCount == 0 { throw .badRequest("missing Host field") }
        let host = hostIndex < 0 ? nil : Int(spans[hostIndex].valueStart)..<Int(spans[hostIndex].valueEnd)
        try HTTPRequestParser.checkTarget(buf, method: methodRange, target: targetRange, host: host)
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
        let keepAlive = switch version {
        case .http11: !connectionClose
        case .http10: connectionKeepAlive && !connectionClose
        }
        // One copy of the head; the fields are ranges of it.
        var bytes = lastHead
        lastHead = []
        if bytes.count < length {
            // Some room to spare, so that a slightly longer next head fits as well.
            bytes = [UInt8](repeating: 0, count: max(length, min(length + 256, Self.reusableBytes)))
        }
        // In place when nothing else holds the array (else copy-on-write gives a new one).
        // Bytes past `length` are stale and never read: the fields are ranges.
        bytes.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: buf.baseAddress!, byteCount: length) }
        if bytes.count <= Self.reusableBytes { lastHead = bytes }
        let fields = spans[..<spanCount].map { s in
            HTTPField(bytes: bytes, name: Int(s.nameStart)..<Int(s.nameEnd), value: Int(s.valueStart)..<Int(s.valueEnd))
        }
        let head = HTTPRequestHead(
            method: HTTPRequestParser.method(buf, methodRange),
            target: HTTPRequestParser.string(buf, targetRange),
            version: version,
            fields: fields,
            framing: framing,
            keepAlive: keepAlive,
            // RFC 9110 §10.1.1: a 100-continue expectation in HTTP/1.0 is ignored.
            expectsContinue: expectsContinue && version == .http11)
        reset()
        return (head, length)
    }
}
