/// Bounds on what `CookieList.parse` accepts from a request's `Cookie` field(s).
///
/// RFC 6265 §6.1 asks user agents to keep at least 50 cookies per domain of at least 4096
/// bytes each; the defaults allow well over that while keeping the pair table of one request
/// small. The field bytes themselves are already bounded by the request head limit.
public struct CookieLimits: Sendable, Equatable {
    /// Most `name=value` pairs over all `Cookie` fields of one request.
    public var maxPairs: Int = 256
    /// Longest value (bytes, without surrounding quotes) a looked-up cookie may have; a longer one is
    /// reported as `CookieLookup.malformed`. Matches the 8 KiB token limit.
    public var maxValueBytes: Int = 8192
    public init() {}
    public init(maxPairs: Int, maxValueBytes: Int) {
        self.maxPairs = maxPairs
        self.maxValueBytes = maxValueBytes
    }
}
