/// Framing bytes for writing a chunked message body (RFC 9112 §7.1), e.g. a response
/// streamed to the client without a known length. The data itself is written between
/// `chunkPrefix` and `chunkSuffix` unchanged.
public enum HTTPChunkedEncoding {
    /// `chunk-size CRLF` for a chunk of `length` bytes, size in lowercase hex.
    /// - Precondition: `length > 0` (a zero size is the last-chunk; use `lastChunk`).
    public static func chunkPrefix(length: Int) -> [UInt8] {
        precondition(length > 0, "a zero-length chunk ends the body; use lastChunk")
        return Array(String(length, radix: 16).utf8) + [0x0D, 0x0A]
    }

    /// The CRLF after chunk-data.
    public static let chunkSuffix: [UInt8] = [0x0D, 0x0A]

    /// `last-chunk` with an empty trailer section: "0\r\n\r\n".
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}
