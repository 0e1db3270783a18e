// `revocation:` parsing, kept apart from the other sections.

extension ConfigBuilder {
    static let revocationKeys = ["file", "url", "refresh", "max_stale", "max_entries"]

    /// `revocation: {file, url, refresh, max_stale, max_entries}`: at least one of `file` and
    /// `url`; `url` follows the `jwks_url` rules; `refresh` at least 1 s.
    func parseRevocation(_ e: Entry) -> RevocationConfig? {
        guard let o = reader.object(e.value, path: e.path, known: ConfigBuilder.revocationKeys) else { return nil }
        var config = RevocationConfig(location: reader.location(e.keyNode))
        var valid = true
        for f in o.entries {
            switch f.key {
            case "file":
                guard let s = reader.string(f.value, path: f.path) else { valid = false; continue }
                guard !s.value.isEmpty else {
                    reader.fail(s.location, "`\(f.path)` must not be empty")
                    valid = false
                    continue
                }
                config.file = resolve(s.value)
            case "url":
                guard let s = reader.string(f.value, path: f.path) else { valid = false; continue }
                if let problem = ConfigBuilder.jwksURLProblem(s.value) {
                    reader.fail(s.location, "invalid `\(f.path)` `\(s.shown)`: \(problem)")
                    valid = false
                    continue
                }
                config.url = s.value
            case "refresh":
                guard let v = reader.duration(f.value, path: f.path, positive: true) else { valid = false; continue }
                guard v >= RevocationConfig.minimumRefresh else {
                    reader.fail(f.value, "`\(f.path)` must be at least 1s")
                    valid = false
                    continue
                }
                config.refresh = v
            case "max_stale":
                guard let v = reader.duration(f.value, path: f.path, positive: true) else { valid = false; continue }
                config.maxStale = v
            case "max_entries":
                guard let v = reader.positiveInt(f.value, path: f.path) else { valid = false; continue }
                config.maxEntries = v
            default:
                break
            }
        }
        if config.file == nil && config.url == nil && valid {
            reader.fail(o.node, "`\(e.path)` needs `file`, `url` or both")
            return nil
        }
        return valid ? config : nil
    }
}
