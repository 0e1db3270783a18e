#if canImport(Glibc)
import Glibc
#endif

/// Reads one HTTP/1.1 response from the raw bytes of an upstream connection: the head
/// (through `ResponseHeadParser`, interim 1xx heads skipped), then the body as its framing
/// says (RFC 9112 §6.3): none for a HEAD request, 1xx, 204 and 304; chunked (decoded, chunk
/// extensions and trailer fields dropped, RFC 9112 §7.1); `Content-Length` bytes; or
/// everything up to the connection's end.
///
/// Pure: bytes in, steps out; no I/O and no copies of body bytes (they are returned as
/// ranges of the input). Only a head line that spans two reads is copied, bounded by the
/// head limit.
///
/// Errors are `UpstreamError.invalidResponse` before the head was returned and
/// `UpstreamError.aborted` after it (the client has then seen the start of the response).
struct UpstreamResponseReader: Sendable {
    /// What `next` found.
    enum Step: Equatable, Sendable {
        /// Every given byte is used; call again with more.
        case needMore
        /// The final response head.
        case head(UpstreamResponseHead)
        /// Body bytes (de-chunked): this range of the input given to `next`.
        case body(Range<Int>)
        /// The response is complete; bytes after it are not part of it.
        case end
    }

    private enum Stage: Sendable, Equatable {
        case head
        case length(remaining: UInt64)
        case chunkSize
        case chunkExtension
        case chunkSizeLF
        case chunkData(remaining: UInt64)
        case chunkDataCR
        case chunkDataLF
        case trailer
        case untilClose
        case done
    }

    private var parser = ResponseHeadParser()
    private var stage = Stage.head
    private let requestIsHead: Bool
    /// A head or trailer line not ended yet in the bytes seen so far.
    private var partialLine: [UInt8] = []
    private var chunkSize: UInt64 = 0
    private var chunkSizeDigits = 0
    private var chunkExtensionBytes = 0
    private var trailerBytes = 0
    /// Whether the connection may carry another exchange once this response ended.
    private(set) var persistent = true
    /// Any byte of the response was given to `next`.
    private(set) var startedResponse = false
    /// The final head was returned.
    var headReturned: Bool { parser.isComplete }

    /// - Parameter requestIsHead: the request was a HEAD (RFC 9110 §9.3.2): the response
    ///   has no body whatever its framing fields say.
    init(requestIsHead: Bool) {
        self.requestIsHead = requestIsHead
    }

    /// Reads from `input` up to the next step.
    /// - Returns: the step and how many bytes of `input` it used (everything for `.needMore`;
    ///   for `.body`, up to the range's end).
    mutating func next(_ input: UnsafeRawBufferPointer) throws(UpstreamError) -> (step: Step, used: Int) {
        if !input.isEmpty { startedResponse = true }
        var i = 0
        while true {
            switch stage {
            case .head where partialLine.isEmpty:
                // The usual case: every complete line of the head in this read, in one call.
                let (head, used) = try parser.consumeLines(UnsafeRawBufferPointer(rebasing: input[i...]))
                i += used
                if let head { return (headRead(head), i) }
                try keepPartial(UnsafeRawBufferPointer(rebasing: input[i...]))
                return (.needMore, input.count)
            case .head, .trailer:
                guard let lf = Self.firstLF(input, from: i) else {
                    try keepPartial(UnsafeRawBufferPointer(rebasing: input[i...]))
                    return (.needMore, input.count)
                }
                let step = try lineEnded(UnsafeRawBufferPointer(rebasing: input[i...lf]))
                i = lf + 1
                if let step { return (step, i) }
            case .length(let remaining):
                if remaining == 0 {
                    stage = .done
                    return (.end, i)
                }
                if i == input.count { return (.needMore, i) }
                let n = Int(min(remaining, UInt64(input.count - i)))
                stage = .length(remaining: remaining - UInt64(n))
                return (.body(i..<i + n), i + n)
            case .untilClose:
                if i == input.count { return (.needMore, i) }
                return (.body(i..<input.count), input.count)
            case .chunkData(let remaining):
                if remaining == 0 {
                    stage = .chunkDataCR
                    continue
                }
                if i == input.count { return (.needMore, i) }
                let n = Int(min(remaining, UInt64(input.count - i)))
                stage = .chunkData(remaining: remaining - UInt64(n))
                return (.body(i..<i + n), i + n)
            case .done:
                return (.end, i)
            case .chunkSize, .chunkExtension, .chunkSizeLF, .chunkDataCR, .chunkDataLF:
                if i == input.count { return (.needMore, i) }
                try chunkFraming(input[i])
                i += 1
            }
        }
    }

    /// The connection ended (EOF) after every byte was given to `next`.
    /// - Throws: unless the response is complete or read up to the close.
    mutating func connectionEnded() throws(UpstreamError) {
        switch stage {
        case .done:
            return
        case .untilClose:
            stage = .done
        case .head:
            throw .invalidResponse(startedResponse ? "response head cut short" : "empty reply from upstream")
        default:
            throw .aborted("response body cut short")
        }
    }

    // MARK: - Lines (head and trailer section)

    private mutating func keepPartial(_ bytes: UnsafeRawBufferPointer) throws(UpstreamError) {
        guard partialLine.count + bytes.count <= ResponseHeadParser.maxHeadBytes else {
            throw stage == .head ? .invalidResponse("response head over 64 KiB") : .aborted("response trailer section over 64 KiB")
        }
        partialLine.append(contentsOf: bytes)
    }

    /// One complete line (with its LF); joined with a kept partial line first.
    private mutating func lineEnded(_ line: UnsafeRawBufferPointer) throws(UpstreamError) -> Step? {
        if partialLine.isEmpty { return try completeLine(line) }
        try keepPartial(line)
        let whole = partialLine
        partialLine = []
        var result: Result<Step?, UpstreamError> = .success(nil)
        whole.withUnsafeBytes { bytes in
            do throws(UpstreamError) {
                result = .success(try completeLine(bytes))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    private mutating func completeLine(_ line: UnsafeRawBufferPointer) throws(UpstreamError) -> Step? {
        if case .trailer = stage {
            trailerBytes += line.count
            guard trailerBytes <= ResponseHeadParser.maxHeadBytes else {
                throw .aborted("response trailer section over 64 KiB")
            }
            // The empty line ends the trailer section, and the message (RFC 9112 §7.1.2).
            if line.count == 1 || (line.count == 2 && line[0] == 0x0D) {
                stage = .done
                return .end
            }
            return nil
        }
        guard let head = try parser.consume(line) else { return nil }
        return headRead(head)
    }

    /// Sets up reading the body `head` announces.
    private mutating func headRead(_ head: UpstreamResponseHead) -> Step {
        persistent = head.persistent
        if requestIsHead || head.status == 204 || head.status == 304 {
            stage = .length(remaining: 0)
        } else if head.chunked {
            stage = .chunkSize
            chunkSize = 0
            chunkSizeDigits = 0
        } else if let length = head.contentLength {
            stage = .length(remaining: length)
        } else {
            // Delimited by the connection's close (RFC 9112 §6.3, last rule).
            stage = .untilClose
            persistent = false
        }
        return .head(head)
    }

    // MARK: - Chunked framing

    /// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk = 1*"0" [ chunk-ext ] CRLF.
    private mutating func chunkFraming(_ b: UInt8) throws(UpstreamError) {
        switch stage {
        case .chunkSize:
            if let digit = Self.hexValue(b) {
                chunkSizeDigits += 1
                guard chunkSizeDigits <= 16 else { throw .aborted("chunk size too large in response") }
                chunkSize = chunkSize << 4 | UInt64(digit)
                return
            }
            guard chunkSizeDigits > 0 else { throw .aborted("invalid chunk size in response") }
            switch b {
            case 0x0D: stage = .chunkSizeLF
            case 0x3B, 0x20, 0x09:
                chunkExtensionBytes = 0
                stage = .chunkExtension
            default: throw .aborted("invalid chunk size in response")
            }
        case .chunkExtension:
            // Extensions are dropped; only their length and bytes are bounded.
            if b == 0x0D {
                stage = .chunkSizeLF
                return
            }
            chunkExtensionBytes += 1
            guard chunkExtensionBytes <= 4096, b == 0x09 || (b >= 0x20 && b != 0x7F) else {
                throw .aborted("invalid chunk extension in response")
            }
        case .chunkSizeLF:
            guard b == 0x0A else { throw .aborted("chunk size line without CRLF in response") }
            if chunkSize == 0 {
                trailerBytes = 0
                stage = .trailer
            } else {
                stage = .chunkData(remaining: chunkSize)
            }
            chunkSize = 0
            chunkSizeDigits = 0
        case .chunkDataCR:
            guard b == 0x0D else { throw .aborted("chunk data without CRLF in response") }
            stage = .chunkDataLF
        case .chunkDataLF:
            guard b == 0x0A else { throw .aborted("chunk data without CRLF in response") }
            stage = .chunkSize
        default:
            preconditionFailure("not a chunk framing stage")
        }
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    /// The offset of the first LF in `input` at or after `start`.
    static func firstLF(_ input: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < input.count, let base = input.baseAddress else { return nil }
        guard let hit = memchr(base + start, 0x0A, input.count - start) else { return nil }
        return UnsafeRawPointer(hit) - base
    }
}
