// `revocation`: the revocation list sources (docs/revocation.md).
import Yams

/// `revocation: {file, url, refresh, max_stale, max_entries}`: at least one of `file` and
/// `url`; `url` follows the `jwks_url` rules; `refresh` at least 1 s.
enum RevocationSection {
    /// The section as read so far; `valid` turns false at the first bad value.
    struct Draft {
        var config: RevocationConfig
        var valid = true
    }

    static let fields = FieldTable<Draft>([
        .key("file") { b, f, d in
            guard let s = b.reader.string(f.value, path: f.path) else { return d.valid = false }
            guard !s.value.isEmpty else {
                b.reader.fail(s.location, "`\(f.path)` must not be empty")
                return d.valid = false
            }
            d.config.file = b.resolve(s.value)
        },
        .key("url") { b, f, d in
            guard let s = b.reader.string(f.value, path: f.path) else { return d.valid = false }
            if let problem = RemoteKeyURL.problem(s.value) {
                b.reader.fail(s.location, "invalid `\(f.path)` `\(s.shown)`: \(problem)")
                return d.valid = false
            }
            d.config.url = s.value
        },
        .key("refresh") { b, f, d in
            guard let v = b.reader.duration(f.value, path: f.path, positive: true) else { return d.valid = false }
            guard v >= RevocationConfig.minimumRefresh else {
                b.reader.fail(f.value, "`\(f.path)` must be at least 1s")
                return d.valid = false
            }
            d.config.refresh = v
        },
        .key("max_stale") { b, f, d in
            guard let v = b.reader.duration(f.value, path: f.path, positive: true) else { return d.valid = false }
            d.config.maxStale = v
        },
        .key("max_entries") { b, f, d in
            guard let v = b.reader.positiveInt(f.value, path: f.path) else { return d.valid = false }
            d.config.maxEntries = v
        },
    ])

    /// The section, or nil when it has errors (reported in the builder's reader).
    static func revocation(_ e: Entry, _ b: ConfigBuilder) -> RevocationConfig? {
        var draft = Draft(config: RevocationConfig(location: b.reader.location(e.keyNode)))
        guard let object = fields.read(e.value, path: e.path, builder: b, into: &draft) else { return nil }
        guard draft.valid else { return nil }
        if draft.config.file == nil && draft.config.url == nil {
            b.reader.fail(object.node, "`\(e.path)` needs `file`, `url` or both")
            return nil
        }
        return draft.config
    }
}
