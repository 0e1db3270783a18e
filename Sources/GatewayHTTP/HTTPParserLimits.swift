/// Limits the parser enforces, in bytes.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Request line + header fields + CRLFs (including the final empty line and any
    /// leading empty lines), bytes. Over it: 431 (or 414 for the request line).
    /// Chunked trailer sections are counted against what is left of it.
    public var maxHeaderBytes: Int
    /// Request line alone, without its CRLF, bytes. Over it: 414.
    public var maxRequestLineBytes: Int
    /// Largest request body, bytes; nil = not checked here. A chunked body whose announced
    /// chunk sizes pass it is refused (`contentTooLarge`) as soon as the size is read,
    /// before any of that chunk's data (a `Content-Length` is checked by the caller).
    public var maxBodyBytes: UInt64?
    public init(maxHeaderBytes: Int = 16 * 1024, maxRequestLineBytes: Int = 8 * 1024, maxBodyBytes: UInt64? = nil) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxBodyBytes = maxBodyBytes
    }
}
