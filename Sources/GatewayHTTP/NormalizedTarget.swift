/// A request path after normalisation (docs/request-handling.md).
public struct NormalizedTarget: Sendable, Equatable {
    /// Normalised absolute path, starting with "/".
    public var path: String
    /// Query string without the "?", exactly as sent; nil when the target had no "?".
    public var query: String?
    public init(path: String, query: String?) {
        self.path = path
        self.query = query
    }

    /// The origin-form target to send upstream: `path`, then "?" + `query` when present.
    public var originForm: String {
        if let query { return path + "?" + query }
        return path
    }
}
