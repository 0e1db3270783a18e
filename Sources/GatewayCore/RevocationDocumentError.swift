/// Why a revocation document was refused (the whole document: none of its entries is used).
/// Texts name JSON positions, never entry values.
public enum RevocationDocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not strict JSON (RFC 8259; duplicate member names refused).
    case notJSON(String)
    /// JSON, but not the revocation document's shape; names the member, e.g. `tokens[3].jti`.
    case shape(String)
    /// More entries (`tokens` plus `subjects`) than `max_entries`.
    case tooManyEntries(count: Int, max: Int)
    /// Larger than the byte limit for its source.
    case tooLarge(max: Int)
    /// The source could not be read or fetched (why, in words).
    case unavailable(String)

    public var description: String {
        switch self {
        case .notJSON(let why): "revocation document is not valid JSON (\(why))"
        case .shape(let why): "revocation document: \(why)"
        case .tooManyEntries(let n, let max): "revocation document has \(n) entries, over max_entries \(max)"
        case .tooLarge(let max): "revocation document is over \(max) bytes"
        case .unavailable(let why): why
        }
    }
}
