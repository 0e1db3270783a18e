// `listen`, `admin`, `limits`, `token_cache` and `log`: the listener-side sections. Defaults
// live in the types they fill (ListenAddress.defaultAdmin, Limits, TokenCacheConfig).

/// Readers of the listener-side sections of gateway.yml.
enum ServerSections {
    /// A listener's address as read, with where its value is written (nil: not written).
    struct Address {
        var address: ListenAddress?
        var location: ConfigLocation?
        /// `admin.token_env` (the admin listener only).
        var tokenEnv: String?
        /// `decision.tls` (the decision listener only; `listen.tls` is kept on the builder).
        var tls: ListenTLSConfig?
    }

    static let listenFields = FieldTable<Address>([
        // HTTPS and trusted proxies (ConfigBuilder+ListenTLS.swift), kept on the builder.
        .key("tls") { b, e, _ in b.listenTLS = b.parseListenTLS(e) },
        .key("trusted_proxies") { b, e, _ in
            b.trustedProxiesLocation = b.reader.location(e.keyNode)
            b.trustedProxies = b.parseTrustedProxies(e)
        },
        .key("address", required: true) { b, e, d in d = Address(address: address(e, b), location: b.reader.location(e.value)) },
    ])

    static func listen(_ e: Entry, _ b: ConfigBuilder) -> Address {
        var address = Address()
        listenFields.read(e.value, path: e.path, builder: b, into: &address)
        return address
    }

    static let adminFields = FieldTable<Address>([
        .key("address") { b, e, d in
            d.address = address(e, b)
            d.location = b.reader.location(e.value)
        },
        .key("token_env") { b, e, d in d.tokenEnv = environmentName(e, b) },
    ])

    /// `decision:` — the forward-auth decision listener (docs/forward-auth.md). Its
    /// address defaults to loopback: the ingress's `X-Forwarded-*` / `X-Original-*` fields
    /// are trusted there. `tls` is the `listen.tls` block, read by the same code.
    static let decisionFields = FieldTable<Address>([
        .key("address") { b, e, d in
            d.address = address(e, b)
            d.location = b.reader.location(e.value)
        },
        .key("tls") { b, e, d in d.tls = b.parseListenTLS(e) },
    ])

    /// Nil address when the mapping or its address is invalid (reported); the default
    /// (`ListenAddress.defaultDecision`) when the address is not written. `location` is the
    /// `decision` key's when the address is not written (for the warning below).
    static func decision(_ e: Entry, _ b: ConfigBuilder) -> Address {
        var address = Address(address: ListenAddress.defaultDecision)
        guard decisionFields.read(e.value, path: e.path, builder: b, into: &address) != nil else { return Address() }
        return address
    }

    /// Whether `host` (an IP literal) is a loopback address: 127.0.0.0/8 or ::1.
    static func isLoopback(_ host: String) -> Bool {
        host == "::1" || host.hasPrefix("127.")
    }

    /// An environment variable name (POSIX portable: letters, digits, `_`, not starting with
    /// a digit); its value is read when it is needed, never logged.
    static func environmentName(_ e: Entry, _ b: ConfigBuilder) -> String? {
        guard let s = b.reader.string(e.value, path: e.path) else { return nil }
        let bytes = Array(s.value.utf8)
        let ok = !bytes.isEmpty && !(bytes[0] >= 0x30 && bytes[0] <= 0x39) && bytes.allSatisfy {
            $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)
        }
        guard ok else {
            b.reader.fail(s.location, "invalid environment variable name `\(s.shown)` for `\(e.path)`")
            return nil
        }
        return s.value
    }

    /// Nil address when the mapping or its address is invalid (reported); the default when not written.
    static func admin(_ e: Entry, _ b: ConfigBuilder) -> Address {
        var address = Address(address: ListenAddress.defaultAdmin)
        guard adminFields.read(e.value, path: e.path, builder: b, into: &address) != nil else { return Address() }
        return address
    }

    /// The listeners' addresses, by their keys, in file order of precedence (`listen` first).
    /// Two listeners cannot share a port on overlapping addresses: same host, or either one
    /// the wildcard (`0.0.0.0`, `::`, which on Linux also takes IPv4). Port 0 (any free port)
    /// never collides. Reported at the later key, or at the earlier when the later is a default.
    static func checkDistinct(_ listeners: [(key: String, address: Address)], _ b: ConfigBuilder) {
        func overlaps(_ x: ListenAddress, _ y: ListenAddress) -> Bool {
            let wildcard: Set<String> = ["0.0.0.0", "::"]
            return x.port == y.port && x.port != 0 && (x.host == y.host || wildcard.contains(x.host) || wildcard.contains(y.host))
        }
        func show(_ a: ListenAddress) -> String { a.host.contains(":") ? "[\(a.host)]:\(a.port)" : "\(a.host):\(a.port)" }
        for (j, later) in listeners.enumerated() {
            guard let l = later.address.address else { continue }
            for earlier in listeners[..<j] {
                guard let e = earlier.address.address, overlaps(e, l) else { continue }
                let written = later.address.location == nil ? " (its default)" : ""
                guard let at = later.address.location ?? earlier.address.location else { continue }
                b.reader.fail(at, "`\(later.key)` \(show(l))\(written) and `\(earlier.key)` \(show(e)) would listen on the same port; each listener needs its own address")
                break
            }
        }
    }

    static func address(_ e: Entry, _ b: ConfigBuilder) -> ListenAddress? {
        guard let s = b.reader.string(e.value, path: e.path) else { return nil }
        do {
            return try ConfigScalars.listenAddress(s.value)
        } catch {
            guard case .invalid(let reason) = error else { return nil }
            b.reader.fail(s.location, "invalid address `\(s.shown)` for `\(e.path)`: \(reason)")
            return nil
        }
    }

    static let limitsFields = FieldTable<Limits>([
        .key("max_header_bytes") { b, f, l in if let v = b.reader.size(f.value, path: f.path) { l.maxHeaderBytes = v } },
        .key("max_body_bytes") { b, f, l in if let v = b.reader.size(f.value, path: f.path) { l.maxBodyBytes = v } },
        .key("header_timeout") { b, f, l in
            if let v = b.reader.duration(f.value, path: f.path, positive: true) { l.headerTimeout = v }
        },
        .key("idle_timeout") { b, f, l in
            if let v = b.reader.duration(f.value, path: f.path, positive: true) { l.idleTimeout = v }
        },
        .key("max_connections") { b, f, l in
            if let v = b.reader.positiveInt(f.value, path: f.path) { l.maxConnections = v }
        },
        .key("drain_timeout") { b, f, l in
            if let v = b.reader.duration(f.value, path: f.path, positive: true) { l.drainTimeout = v }
        },
        .key("body_timeout") { b, f, l in
            if let v = b.reader.duration(f.value, path: f.path, positive: true) { l.bodyTimeout = v }
        },
    ])

    static func limits(_ e: Entry, _ b: ConfigBuilder) -> Limits {
        var limits = Limits()
        limitsFields.read(e.value, path: e.path, builder: b, into: &limits)
        return limits
    }

    static let tokenCacheFields = FieldTable<TokenCacheConfig>([
        .key("enabled") { b, f, c in if let v = b.reader.bool(f.value, path: f.path) { c.enabled = v } },
        .key("max_entries") { b, f, c in if let v = b.reader.positiveInt(f.value, path: f.path) { c.maxEntries = v } },
        .key("max_bytes") { b, f, c in if let v = b.reader.size(f.value, path: f.path) { c.maxBytes = v } },
    ])

    static func tokenCache(_ e: Entry, _ b: ConfigBuilder) -> TokenCacheConfig {
        var cache = TokenCacheConfig()
        tokenCacheFields.read(e.value, path: e.path, builder: b, into: &cache)
        return cache
    }

    /// The swift-log level names `log.level` accepts.
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    static let logFields = FieldTable<String?>([
        .key("level") { b, l, level in
            guard let s = b.reader.string(l.value, path: l.path) else { return }
            guard logLevels.contains(s.value) else {
                let hint = b.reader.didYouMean(s.value, among: logLevels)
                b.reader.fail(s.location, "unknown log level `\(s.shown)` for `\(l.path)`"
                    + (hint.isEmpty ? "; one of: \(logLevels.joined(separator: ", "))" : hint))
                return
            }
            level = s.value
        },
    ])

    /// `log: {level: info}`; nil when absent or invalid.
    static func logLevel(_ e: Entry, _ b: ConfigBuilder) -> String? {
        var level: String?
        logFields.read(e.value, path: e.path, builder: b, into: &level)
        return level
    }
}
