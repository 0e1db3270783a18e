/// One `cookie-pair` of a request's `Cookie` field (RFC 6265 §4.2.1), located in the field
/// it came from so it can be removed without touching the others.
public struct CookiePair: Sendable, Equatable {
    /// The name, case-sensitive (RFC 6265 §5.4 compares names exactly), with spaces and tabs
    /// around it removed as every server-side parser does (RFC 6265 §5.2 step 4). Empty when
    /// the pair has no `=` (RFC 6265 §5.2 ignores such a pair; some servers read it as a
    /// value with an empty name): such a pair never matches a configured name.
    public var name: Substring
    /// The value: DQUOTEs around it removed (RFC 6265 §4.1.1 `DQUOTE *cookie-octet DQUOTE`),
    /// spaces and tabs around it removed.
    public var value: Substring
    /// Whether the pair follows RFC 6265 §4.1.1 exactly: `name` a token with no whitespace
    /// before `=`, the value `*cookie-octet` or the same in DQUOTEs, nothing after it but
    /// optional whitespace before the next `;`. Whitespace *after* `;` is tolerated (HTTP
    /// clients commonly send `a=1;b=2` or `a=1;  b=2`); `,` is never a separator (RFC 9110
    /// §5.3: `Cookie` is not a list field).
    public var isWellFormed: Bool
    /// Index of the `Cookie` field in the request's field list.
    public var fieldIndex: Int
    /// Byte offsets of the pair (from its first non-whitespace byte to its last) in that
    /// field's value.
    public var byteRange: Range<Int>

    public init(name: Substring, value: Substring, isWellFormed: Bool, fieldIndex: Int, byteRange: Range<Int>) {
        self.name = name
        self.value = value
        self.isWellFormed = isWellFormed
        self.fieldIndex = fieldIndex
        self.byteRange = byteRange
    }
}
