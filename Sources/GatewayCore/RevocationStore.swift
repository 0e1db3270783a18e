import GatewayPolicy

/// Gives the revocation store for a `revocation:` section, its documents loaded: the
/// server's revocation service in `gateway serve`/`check`/`explain` (the runtime reads no
/// files); without one a `revocation:` section is a config error.
/// - Throws: `ConfigError` at the `revocation` line when a document cannot be read or is invalid.
public typealias RevocationStoreProvider = (_ config: RevocationConfig) throws(ConfigError) -> RevocationStore

/// The revocation list in force, shared by every loop and replaced whole when a source
/// (file or URL) brings a new valid document. Reading (`list`) is one uncontended mutex
/// acquisition and a reference copy; the list itself is immutable, so a loop that has it
/// needs no lock to look up. A reader sees the new list on its next read.
///
/// Writers (the revocation service, one at a time) merge off the loops and only swap here.
///
/// `@unchecked Sendable`: mutable state is guarded by `mutex` (readers) and `writer`.
public final class RevocationStore: @unchecked Sendable {
    public let config: RevocationConfig
    private let mutex = Mutex()
    private let writer = Mutex()
    private var merged: RevocationList
    private var fileList: RevocationList
    private var urlList: RevocationList
    /// Seconds since the epoch of the last successful load (200 or 304) of `config.url`.
    private var urlLoadedAt: Double?

    /// - Parameters:
    ///   - file: the document read from `config.file` (empty when there is none).
    ///   - url: the document fetched from `config.url`, fetched at `now`.
    public init(config: RevocationConfig, file: RevocationList = .empty, url: RevocationList? = nil, now: Double) {
        self.config = config
        self.fileList = file
        self.urlList = url ?? .empty
        self.urlLoadedAt = url == nil ? nil : now
        self.merged = file.merging(url ?? .empty)
    }

    /// The list in force now.
    public var list: RevocationList { mutex.withLock { merged } }

    /// Entries from the file and from the URL (before merging).
    public var sourceCounts: (file: Int, url: Int) {
        writer.withLock { (fileList.count, urlList.count) }
    }

    /// Installs a new document from `config.file`.
    public func replaceFile(_ list: RevocationList) {
        writer.withLock {
            fileList = list
            let m = list.merging(urlList)
            mutex.withLock { merged = m }
        }
    }

    /// Installs a new document from `config.url`, loaded at `now` (seconds since the epoch).
    public func replaceURL(_ list: RevocationList, now: Double) {
        writer.withLock {
            urlList = list
            urlLoadedAt = now
            let m = fileList.merging(list)
            mutex.withLock { merged = m }
        }
    }

    /// The URL answered 304 Not Modified at `now`: the list is current.
    public func urlConfirmed(now: Double) {
        writer.withLock { urlLoadedAt = now }
    }

    /// Why the gateway is not ready because of revocation, or nil: the URL has not loaded
    /// for more than `max_stale` seconds.
    public func readinessProblem(now: Double) -> String? {
        guard config.url != nil else { return nil }
        let last = writer.withLock { urlLoadedAt }
        guard let last else { return "revocation list never loaded from its url" }
        let age = now - last
        if age > config.maxStale { return "revocation list not loaded from its url for \(Int(age))s (max_stale \(Int(config.maxStale))s)" }
        return nil
    }
}
