/// What the parser found.
public enum HTTPParserEvent: Sendable, Equatable {
    /// A complete request head. For `.none` framing, `.end` follows immediately on the next call.
    case head(HTTPRequestHead)
    /// Body bytes: this range of the input passed to `parse` (already de-chunked).
    case body(Range<Int>)
    /// The request (head and body) is complete; the parser is ready for the next request.
    case end
}
