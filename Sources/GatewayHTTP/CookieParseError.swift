/// Why the `Cookie` fields of a request could not be read as a whole.
public enum CookieParseError: Error, Sendable, Equatable {
    /// More pairs than `CookieLimits.maxPairs`.
    case tooManyPairs
}
