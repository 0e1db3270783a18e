/// Limits the parser enforces. Both are byte counts.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Request line + header fields + CRLFs (including the final empty line and any
    /// leading empty lines), bytes. Over it: 431 (or 414 for the request line).
    /// Chunked trailer sections are counted against what is left of it.
    public var maxHeaderBytes: Int
    /// Request line alone, without its CRLF, bytes. Over it: 414.
    public var maxRequestLineBytes: Int
    public init(maxHeaderBytes: Int = 16 * 1024, maxRequestLineBytes: Int = 8 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxRequestLineBytes = maxRequestLineBytes
    }
}
