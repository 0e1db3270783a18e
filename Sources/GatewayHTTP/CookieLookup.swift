/// The result of looking up one cookie name in a request (`CookieList.lookup`).
public enum CookieLookup: Sendable, Equatable {
    /// No pair has that name.
    case absent
    /// Exactly one pair, well-formed and within `CookieLimits.maxValueBytes`.
    case found(CookiePair)
    /// The name appears more than once (in one field or across several): which one a
    /// server reads differs between implementations, so neither can be trusted.
    case duplicated
    /// Exactly one pair with that name, but not RFC 6265 §4.1.1 syntax (whitespace before
    /// `=`, a value with spaces, `"`, `,`, `\` or control characters, unbalanced quotes,
    /// or too long): other parsers could read another value from it.
    case malformed
}
