/// `revocation:` — lists of revoked tokens and subjects (docs/revocation.md), from a file,
/// a URL, or both (their entries merged).
public struct RevocationConfig: Sendable, Equatable {
    /// Absolute path (relative paths resolved against the config file's directory); re-read
    /// when its modification time, size or inode changes (checked every second) and on reload.
    public var file: String?
    /// https (http only for a loopback host), polled every `refresh` with `If-None-Match`.
    public var url: String?
    /// Seconds between polls of `url`; at least 1.
    public var refresh: Double = 30
    /// Seconds without a successful load of `url` after which `/readyz` fails.
    public var maxStale: Double = 300
    /// Most entries (`tokens` plus `subjects`) in one document; a larger one is refused whole.
    public var maxEntries: Int = 1_000_000
    /// Where `revocation` is written (errors about the documents point here).
    public var location: ConfigLocation

    public init(file: String? = nil, url: String? = nil, location: ConfigLocation) {
        self.file = file
        self.url = url
        self.location = location
    }

    /// The smallest `refresh`, seconds.
    public static let minimumRefresh: Double = 1
}
