// gateway.yml → GatewayConfig (SPEC §3). Parsing is pure; only `load` reads the file.
import Foundation
import GatewayJOSE
import Yams

/// Reads and validates `gateway.yml` (SPEC §3).
public enum ConfigLoader {
    /// Largest config file `load` reads, in bytes.
    public static let maxFileBytes = 1 << 20

    /// Parses and validates a whole config.
    /// - Parameters:
    ///   - yaml: file contents; `path` is used in error locations and to resolve relative key paths
    ///     (relative to the config file's directory).
    ///   - environment: for `${NAME}` interpolation.
    /// - Throws: `ConfigErrors` with every problem found (YAML syntax, duplicate keys, unknown keys,
    ///   wrong types, bad values, unset variables, duplicate names, missing references), in file
    ///   order, and the issuers whose own entries are valid (`parsedIssuers`).
    public static func parse(yaml: String, path: String, environment: [String: String]) throws(ConfigErrors) -> GatewayConfig {
        let document: ComposedDocument
        do {
            document = try compose(yaml)
        } catch {
            throw ConfigErrors([yamlError(error.error, yaml: yaml, path: path, insertions: error.insertions)])
        }
        guard let root = document.root else {
            throw ConfigErrors([ConfigError(location: ConfigLocation(path: path, line: 1, column: 1),
                                            message: "the configuration is empty")])
        }
        let reader = ConfigReader(file: path, environment: environment, insertions: document.insertions)
        for d in document.duplicates {
            let first = reader.location(d.first)
            reader.fail(d.node, "duplicate key `\(d.key)` (first at line \(first.line), column \(first.column))")
        }
        let builder = ConfigBuilder(reader: reader, baseDirectory: directory(of: path))
        let config = builder.build(root)
        reader.checkInterpolation(root, path: "")
        let errors = ConfigErrors(reader.errors).sortedByLocation().errors
        guard errors.isEmpty, let config else {
            var failure = ConfigErrors(errors.isEmpty
                ? [ConfigError(location: ConfigLocation(path: path, line: 1, column: 1), message: "invalid configuration")]
                : errors)
            failure.parsedIssuers = builder.parsedIssuers
            throw failure
        }
        return config
    }

    /// Reads the file at `path` (at most `maxFileBytes`, UTF-8) then `parse`s it.
    /// - Throws: `ConfigErrors`: the file cannot be read, is too large or not UTF-8, or `parse` errors.
    public static func load(path: String, environment: [String: String]) throws(ConfigErrors) -> GatewayConfig {
        let start = ConfigLocation(path: path, line: 1, column: 1)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigErrors([ConfigError(location: start,
                                            message: "cannot read the configuration file: \(FileProblem.describe(path))")])
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw ConfigErrors([ConfigError(location: start,
                                            message: "cannot read the configuration file: \(FileProblem.describe(path))")])
        }
        guard data.count <= maxFileBytes else {
            throw ConfigErrors([ConfigError(location: start, message: "the configuration file is larger than \(maxFileBytes) bytes")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigError(location: start, message: "the configuration file is not valid UTF-8")])
        }
        return try parse(yaml: text, path: path, environment: environment)
    }

    /// The directory holding the config file ("" when `path` has none: relative paths stay as written).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A YAML document composed by Yams, with duplicate mapping keys tolerated.
    struct ComposedDocument {
        var root: Node?
        /// Text inserted to rename earlier occurrences of duplicate keys (in insertion order).
        var insertions: [TextInsertion] = []
        /// Each later occurrence of a duplicate key (`node`), with the first occurrence.
        var duplicates: [(key: String, node: Node, first: Node)] = []
    }

    /// A Yams error, with the insertions made before it (its marks are in the edited text).
    struct ComposeFailure: Error {
        var error: any Error
        var insertions: [TextInsertion]
    }

    /// Most duplicate keys renamed before giving up (each costs a full re-compose).
    static let maxDuplicateKeys = 100

    /// Composes `yaml`. Yams refuses a mapping with a key written twice and marks only the
    /// first occurrence; so that the error points at the later one and the rest of the file is
    /// still checked, the occurrence Yams marks is renamed in a working copy and the text
    /// composed again, until it composes. The renamed (earlier) entries are then dropped from
    /// the tree — the last occurrence stays — and each later occurrence is listed in
    /// `duplicates`.
    static func compose(_ yaml: String) throws(ComposeFailure) -> ComposedDocument {
        var text = yaml
        var document = ComposedDocument()
        var renamed: [String: String] = [:]  // renamed key → key as written
        while true {
            do {
                document.root = try Yams.compose(yaml: text)
                break
            } catch YamlError.duplicatedKeysInMapping(let keys, let context) {
                let marker = "__gateway_duplicate_\(renamed.count)__"
                guard renamed.count < maxDuplicateKeys, let key = keys.first,
                      let (edited, insertion) = TextInsertion.insert(marker, before: key, line: context.mark.line,
                                                                     column: context.mark.column, in: text)
                else {
                    throw ComposeFailure(error: YamlError.duplicatedKeysInMapping(duplicates: keys, context: context),
                                         insertions: document.insertions)
                }
                text = edited
                renamed[marker + key] = key
                document.insertions.append(insertion)
            } catch {
                throw ComposeFailure(error: error, insertions: document.insertions)
            }
        }
        if !renamed.isEmpty, let root = document.root {
            document.root = dropRenamed(root, renamed: renamed, duplicates: &document.duplicates)
        }
        return document
    }

    /// `node` without the mapping entries whose keys `compose` renamed; each later occurrence
    /// of such a key is appended to `duplicates`.
    static func dropRenamed(_ node: Node, renamed: [String: String],
                            duplicates: inout [(key: String, node: Node, first: Node)]) -> Node {
        switch node {
        case .mapping(let mapping):
            let entries = Array(mapping)
            func written(_ key: Node) -> String? { key.string.map { renamed[$0] ?? $0 } }
            var pairs: [(Node, Node)] = []
            var first: [String: Node] = [:]
            for (i, (key, value)) in entries.enumerated() {
                if let k = written(key), first[k] == nil { first[k] = key }
                if let s = key.string, let k = renamed[s] {
                    if let later = entries[(i + 1)...].first(where: { written($0.key) == k }) {
                        duplicates.append((k, later.key, first[k] ?? key))
                    }
                    continue
                }
                pairs.append((key, dropRenamed(value, renamed: renamed, duplicates: &duplicates)))
            }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case .sequence(let seq):
            return .sequence(Node.Sequence(seq.map { dropRenamed($0, renamed: renamed, duplicates: &duplicates) },
                                           seq.tag, seq.style, seq.mark))
        default:
            return node
        }
    }

    /// A Yams error as one ConfigError at the position Yams reports (mapped back through
    /// `insertions` to the file as written).
    static func yamlError(_ error: any Error, yaml: String, path: String, insertions: [TextInsertion] = []) -> ConfigError {
        func place(_ mark: Mark) -> (line: Int, column: Int) {
            TextInsertion.original(line: mark.line, column: mark.column, after: insertions)
        }
        func at(_ mark: Mark, _ message: String) -> ConfigError {
            let p = place(mark)
            return ConfigError(location: ConfigLocation(path: path, line: p.line, column: p.column), message: message)
        }
        guard let error = error as? YamlError else {
            return ConfigError(location: ConfigLocation(path: path, line: 1, column: 1), message: "invalid YAML")
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let ctx = context.map { c in
                let p = place(c.mark)
                return " (\(c.text) at line \(p.line), column \(p.column))"
            } ?? ""
            return at(mark, "invalid YAML: \(problem)\(ctx)")
        case let .reader(problem, offset, _, _):
            var line = 1, column = 1
            if let offset {
                for b in yaml.utf8.prefix(offset) {
                    if b == UInt8(ascii: "\n") { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
                }
            }
            return ConfigError(location: ConfigLocation(path: path, line: line, column: column), message: "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "`\($0)`" }.joined(separator: ", ")
            return at(context.mark, "duplicate key \(keys) in a mapping")
        default:
            return ConfigError(location: ConfigLocation(path: path, line: 1, column: 1), message: "invalid YAML")
        }
    }
}

/// Text `ConfigLoader.compose` inserted into the YAML before composing it: `length` Unicode
/// scalars at `line`:`column` (1-based, as Yams marks count) of the text at that step.
struct TextInsertion {
    var line: Int
    var column: Int
    var length: Int

    /// A position in the edited text mapped back to the text before `insertions` (undone
    /// last first). Insertions never add lines, so only columns after one on its line move.
    static func original(line: Int, column: Int, after insertions: [TextInsertion]) -> (line: Int, column: Int) {
        var column = column
        for i in insertions.reversed() where i.line == line && column >= i.column + i.length {
            column -= i.length
        }
        return (line, column)
    }

    /// `text` with `marker` inserted at the start of the key `key` that Yams marked at
    /// `line`:`column` (inside its quotes when quoted); nil unless the text there is the key
    /// as written, plainly or in quotes.
    static func insert(_ marker: String, before key: String, line: Int, column: Int, in text: String)
        -> (String, TextInsertion)? {
        var scalars = Array(text.unicodeScalars)
        var l = 1, c = 1, i = 0
        while i < scalars.count, !(l == line && c == column) {
            let s = scalars[i]
            if s == "\n" || s == "\r" {
                if s == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
                l += 1
                c = 1
            } else {
                c += 1
            }
            i += 1
        }
        guard l == line, c == column, i < scalars.count else { return nil }
        var at = i, atColumn = column
        if scalars[i] == "\"" || scalars[i] == "'" {
            at += 1
            atColumn += 1
        }
        let keyScalars = Array(key.unicodeScalars)
        guard !keyScalars.isEmpty, at + keyScalars.count <= scalars.count,
              Array(scalars[at..<(at + keyScalars.count)]) == keyScalars
        else { return nil }
        let markerScalars = Array(marker.unicodeScalars)
        scalars.insert(contentsOf: markerScalars, at: at)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return (String(view), TextInsertion(line: line, column: atColumn, length: markerScalars.count))
    }
}

/// Header names an identity header may never take: hop-by-hop (RFC 9110 §7.6.1) and fields
/// that frame or route the request.
let forbiddenIdentityHeaders: Set<String> = [
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    "authorization", "proxy-authorization", "host", "content-length",
]

/// Walks the root mapping into a GatewayConfig, collecting errors in `reader`.
final class ConfigBuilder {
    let reader: ConfigReader
    let baseDirectory: String
    /// Names declared in the file, valid or not (so a reference to an invalid entry is not
    /// reported a second time as unknown).
    var declaredIssuers: [String] = []
    var declaredUpstreams: [String] = []
    /// Issuers whose own entries are valid, in file order, duplicates included: their keys
    /// can be loaded (and their errors reported) even when other parts of the file are wrong.
    var parsedIssuers: [IssuerConfig] = []

    init(reader: ConfigReader, baseDirectory: String) {
        self.reader = reader
        self.baseDirectory = baseDirectory
    }

    /// A file path from the config, resolved against the config file's directory.
    func resolve(_ file: String) -> String {
        if file.hasPrefix("/") || baseDirectory.isEmpty { return file }
        return baseDirectory == "/" ? "/" + file : baseDirectory + "/" + file
    }

    func build(_ root: Node) -> GatewayConfig? {
        guard let top = reader.object(root, path: "",
                                      known: ["listen", "admin", "limits", "issuers", "upstreams", "identity", "routes",
                                               "token_cache", "log", "revocation"])
        else { return nil }
        let listen = reader.require(top, "listen").flatMap(parseListen)
        var admin: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 9090)
        if let e = top["admin"] { admin = parseAdmin(e) }
        let limits = top["limits"].map(parseLimits) ?? Limits()
        let issuers = top["issuers"].map(parseIssuers) ?? []
        let upstreams = top["upstreams"].map(parseUpstreams) ?? [:]
        let identity = top["identity"].map(parseIdentity) ?? IdentityConfig()
        var routes: [Route] = []
        if let e = reader.require(top, "routes") {
            routes = parseRoutes(e, issuers: issuers, upstreams: upstreams)
        }
        let tokenCache = top["token_cache"].map(parseTokenCache)
        let logLevel = top["log"].flatMap(parseLog)
        let revocation = top["revocation"].flatMap(parseRevocation)
        guard let listen else { return nil }
        var config = GatewayConfig(listen: listen, admin: admin, limits: limits, issuers: issuers,
                                   upstreams: upstreams, identity: identity, routes: routes)
        if let tokenCache { config.tokenCache = tokenCache }
        config.logLevel = logLevel
        config.revocation = revocation
        config.warnings = warnings(config)
        return config
    }

    // MARK: listen, admin, limits

    func parseListen(_ e: Entry) -> ListenAddress? {
        guard let o = reader.object(e.value, path: e.path, known: ["address", "tls"]) else { return nil }
        if let tls = o["tls"] { reader.fail(tls.keyNode, "listen.tls is not supported yet") }
        guard let a = reader.require(o, "address") else { return nil }
        return address(a)
    }

    func parseAdmin(_ e: Entry) -> ListenAddress? {
        guard let o = reader.object(e.value, path: e.path, known: ["address"]) else { return nil }
        guard let a = o["address"] else { return ListenAddress(host: "127.0.0.1", port: 9090) }
        return address(a)
    }

    func address(_ e: Entry) -> ListenAddress? {
        guard let s = reader.string(e.value, path: e.path) else { return nil }
        do {
            return try ConfigScalars.listenAddress(s.value)
        } catch {
            guard case .invalid(let reason) = error else { return nil }
            reader.fail(s.location, "invalid address `\(s.shown)` for `\(e.path)`: \(reason)")
            return nil
        }
    }

    func parseLimits(_ e: Entry) -> Limits {
        var limits = Limits()
        guard let o = reader.object(e.value, path: e.path, known: [
            "max_header_bytes", "max_body_bytes", "header_timeout", "idle_timeout", "max_connections", "drain_timeout",
            "body_timeout",
        ]) else { return limits }
        for f in o.entries {
            switch f.key {
            case "max_header_bytes": if let v = reader.size(f.value, path: f.path) { limits.maxHeaderBytes = v }
            case "max_body_bytes": if let v = reader.size(f.value, path: f.path) { limits.maxBodyBytes = v }
            case "header_timeout": if let v = reader.duration(f.value, path: f.path, positive: true) { limits.headerTimeout = v }
            case "idle_timeout": if let v = reader.duration(f.value, path: f.path, positive: true) { limits.idleTimeout = v }
            case "drain_timeout": if let v = reader.duration(f.value, path: f.path, positive: true) { limits.drainTimeout = v }
            case "body_timeout": if let v = reader.duration(f.value, path: f.path, positive: true) { limits.bodyTimeout = v }
            case "max_connections": if let v = reader.positiveInt(f.value, path: f.path) { limits.maxConnections = v }
            default: break
            }
        }
        return limits
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// `log: {level: info}` (the swift-log level names).
    func parseLog(_ e: Entry) -> String? {
        guard let o = reader.object(e.value, path: e.path, known: ["level"]), let l = o["level"],
              let s = reader.string(l.value, path: l.path)
        else { return nil }
        guard ConfigBuilder.logLevels.contains(s.value) else {
            let hint = reader.didYouMean(s.value, among: ConfigBuilder.logLevels)
            reader.fail(s.location, "unknown log level `\(s.shown)` for `\(l.path)`"
                + (hint.isEmpty ? "; one of: \(ConfigBuilder.logLevels.joined(separator: ", "))" : hint))
            return nil
        }
        return s.value
    }

    func parseTokenCache(_ e: Entry) -> TokenCacheConfig {
        var cache = TokenCacheConfig()
        guard let o = reader.object(e.value, path: e.path, known: ["enabled", "max_entries", "max_bytes"]) else {
            return cache
        }
        for f in o.entries {
            switch f.key {
            case "enabled": if let v = reader.bool(f.value, path: f.path) { cache.enabled = v }
            case "max_entries": if let v = reader.positiveInt(f.value, path: f.path) { cache.maxEntries = v }
            case "max_bytes": if let v = reader.size(f.value, path: f.path) { cache.maxBytes = v }
            default: break
            }
        }
        return cache
    }

    // MARK: issuers

    static let keySources = ["jwks_url", "jwks_file", "public_key_file", "secret_env"]

    /// Why a `jwks_url` is refused, or nil: https, or http to a loopback host only
    /// (127.0.0.0/8, ::1, localhost — for tests and sidecars; keys must not travel in clear).
    static func jwksURLProblem(_ text: String) -> String? {
        let parsed: (scheme: String, host: String, port: UInt16, basePath: String)
        do { parsed = try ConfigScalars.upstreamURL(text) } catch {
            if case .invalid(let reason) = error { return reason }
            return "not a URL"
        }
        if parsed.scheme == "https" { return nil }
        let host = parsed.host.lowercased()
        if host == "localhost" || host == "::1" || (ConfigScalars.isIPv4(host) && host.hasPrefix("127.")) { return nil }
        return "must be https (http only for a loopback host)"
    }

    func parseIssuers(_ e: Entry) -> [IssuerConfig] {
        guard let items = reader.list(e.value, path: e.path) else { return [] }
        var out: [IssuerConfig] = []
        var names: Set<String> = []
        var values: [String: String] = [:]
        for (node, path) in items {
            if case .mapping(let m) = node, let n = m["name"]?.string, !declaredIssuers.contains(n) { declaredIssuers.append(n) }
            // Names and `issuer` values are compared even for entries with other errors.
            guard let parsed = parseIssuer(node, path: path) else { continue }
            if let issuer = parsed.issuer { parsedIssuers.append(issuer) }
            if let name = parsed.name {
                guard names.insert(name.value).inserted else {
                    reader.fail(name.location, "duplicate issuer name `\(name.value)`")
                    continue
                }
            }
            if let iss = parsed.iss {
                if let other = values[iss.value] {
                    reader.fail(iss.location, "issuer `\(iss.value)` is already used by issuer `\(other)`; each `issuer` value must pick one entry")
                    continue
                }
                if let name = parsed.name { values[iss.value] = name.value }
            }
            if let issuer = parsed.issuer { out.append(issuer) }
        }
        return out
    }

    /// One issuer entry: nil when it is not a mapping; else its name and `issuer` value when
    /// they are valid strings, and the issuer when the whole entry is valid.
    func parseIssuer(_ node: Node, path: String) -> (issuer: IssuerConfig?, name: ScalarValue?, iss: ScalarValue?)? {
        guard let o = reader.object(node, path: path, known: [
            "name", "issuer", "audiences", "algorithms", "jwks_url", "jwks_file", "public_key_file", "secret_env",
            "secret_encoding", "key_id", "jwks_refresh", "clock_skew", "max_token_lifetime", "require_exp",
            "scope_claim", "roles_claim",
        ]) else { return nil }
        var ok = true
        let name = reader.require(o, "name").flatMap { reader.string($0.value, path: $0.path) }
        let iss = reader.require(o, "issuer").flatMap { reader.string($0.value, path: $0.path) }
        if name == nil || iss == nil { ok = false }
        var audiences: [String] = []
        if let a = o["audiences"] {
            if let list = reader.stringList(a.value, path: a.path) { audiences = list.map(\.value) } else { ok = false }
        }
        // Key source: exactly one.
        let sources = o.entries.filter { Self.keySources.contains($0.key) }
        var keySource: KeySource?
        var keySourceLocation = reader.location(o.node)
        if sources.isEmpty {
            reader.fail(o.node, "`\(path)` needs exactly one key source: jwks_url, jwks_file, public_key_file or secret_env")
            ok = false
        } else if sources.count > 1 {
            reader.fail(sources[1].keyNode, "`\(path)` has several key sources (\(sources.map { "`\($0.key)`" }.joined(separator: ", "))); exactly one is allowed")
            ok = false
        } else {
            let src = sources[0]
            keySourceLocation = reader.location(src.keyNode)
            if let s = reader.string(src.value, path: src.path) {
                switch src.key {
                case "jwks_url":
                    if let why = Self.jwksURLProblem(s.value) {
                        reader.fail(s.location, "invalid `\(src.path)` `\(s.shown)`: \(why)")
                        ok = false
                    } else {
                        keySource = .jwksURL(s.value)
                    }
                case "jwks_file": keySource = .jwksFile(resolve(s.value))
                case "public_key_file": keySource = .publicKeyFile(resolve(s.value))
                default:
                    if reader.isVariableName(s.value) {
                        keySource = .secretEnv(s.value, .raw)
                    } else {
                        reader.fail(s.location, "`\(src.path)` must be an environment variable name, not `\(s.shown)`")
                    }
                }
            }
            if keySource == nil { ok = false }
        }
        let isSecret = sources.count == 1 && sources[0].key == "secret_env"
        let isSingleKey = sources.count == 1 && (sources[0].key == "secret_env" || sources[0].key == "public_key_file")
        if let enc = o["secret_encoding"] {
            if sources.count == 1, !isSecret {
                reader.fail(enc.keyNode, "`secret_encoding` is only allowed with `secret_env`")
                ok = false
            } else if let es = reader.string(enc.value, path: enc.path) {
                if let v = SecretEncoding(rawValue: es.value) {
                    if case .secretEnv(let variable, _) = keySource { keySource = .secretEnv(variable, v) }
                } else {
                    let choices = ["raw", "base64", "base64url"]
                    reader.fail(es.location, "`\(enc.path)` must be raw, base64 or base64url, not `\(es.shown)`"
                        + reader.didYouMean(es.value, among: choices))
                    ok = false
                }
            } else {
                ok = false
            }
        }
        var keyID: String?
        if let k = o["key_id"] {
            if sources.count == 1, !isSingleKey {
                reader.fail(k.keyNode, "`key_id` is only allowed with `public_key_file` or `secret_env`")
                ok = false
            } else if let s = reader.string(k.value, path: k.path) {
                keyID = s.value
            } else {
                ok = false
            }
        }
        // Algorithms: required allowlist, fitting the key source.
        var algorithms: [JWSAlgorithm] = []
        if let a = reader.require(o, "algorithms") {
            if let list = reader.stringList(a.value, path: a.path) {
                if list.isEmpty, case .sequence = a.value {
                    reader.fail(a.value, "`\(a.path)` must not be empty")
                    ok = false
                }
                for s in list {
                    guard let alg = JWSAlgorithm(rawValue: s.value) else {
                        ok = false
                        if s.value.lowercased() == "none" {
                            reader.fail(s.location, "algorithm `none` is never accepted")
                        } else {
                            reader.fail(s.location, "unknown algorithm `\(s.shown)`"
                                + reader.didYouMean(s.value, among: JWSAlgorithm.allCases.map(\.rawValue)))
                        }
                        continue
                    }
                    if algorithms.contains(alg) { continue }
                    let hmac = alg.rawValue.hasPrefix("HS")
                    if sources.count == 1 {
                        let src = sources[0].key
                        if hmac, src != "secret_env", src != "jwks_file" {
                            reader.fail(s.location, "algorithm `\(alg.rawValue)` needs a `secret_env` or `jwks_file` key source, not `\(src)`")
                            ok = false
                            continue
                        }
                        if !hmac, src == "secret_env" {
                            reader.fail(s.location, "algorithm `\(alg.rawValue)` needs a public key; `secret_env` only holds an HMAC secret (HS256, HS384, HS512)")
                            ok = false
                            continue
                        }
                    }
                    algorithms.append(alg)
                }
            } else {
                ok = false
            }
        } else {
            ok = false
        }
        var jwksRefresh = 600.0, clockSkew = 30.0, maxLifetime: Double?, requireExp = true
        var scopeClaim = "scope"
        var rolesClaim: [String]?
        if let f = o["jwks_refresh"] {
            if let v = reader.duration(f.value, path: f.path, positive: true) {
                // SPEC §4: a JWK Set is never fetched more often than every 30 s.
                if v < 30 {
                    reader.fail(f.value, "`\(f.path)` must be at least 30s")
                    ok = false
                }
                jwksRefresh = v
            } else { ok = false }
        }
        if let f = o["clock_skew"] {
            if let v = reader.duration(f.value, path: f.path, positive: false) { clockSkew = v } else { ok = false }
        }
        if let f = o["max_token_lifetime"] {
            if let v = reader.duration(f.value, path: f.path, positive: true) { maxLifetime = v } else { ok = false }
        }
        if let f = o["require_exp"] {
            if let v = reader.bool(f.value, path: f.path) { requireExp = v } else { ok = false }
        }
        if let f = o["scope_claim"] {
            if let v = reader.string(f.value, path: f.path) { scopeClaim = v.value } else { ok = false }
        }
        if let f = o["roles_claim"] {
            if let v = reader.string(f.value, path: f.path) {
                let parts = v.value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                if parts.contains(where: \.isEmpty) {
                    reader.fail(v.location, "`\(f.path)` must be a dotted claim path like `realm_access.roles`, without empty parts")
                    ok = false
                } else {
                    rolesClaim = parts
                }
            } else {
                ok = false
            }
        }
        guard ok, let name, let iss, let keySource, !algorithms.isEmpty else { return (nil, name, iss) }
        var issuer = IssuerConfig(name: name.value, issuer: iss.value, audiences: audiences, algorithms: algorithms,
                                  keySource: keySource, keySourceLocation: keySourceLocation)
        issuer.keyID = keyID
        issuer.jwksRefresh = jwksRefresh
        issuer.clockSkew = clockSkew
        issuer.maxTokenLifetime = maxLifetime
        issuer.requireExp = requireExp
        issuer.scopeClaim = scopeClaim
        issuer.rolesClaim = rolesClaim
        return (issuer, name, iss)
    }

    // MARK: upstreams

    func parseUpstreams(_ e: Entry) -> [String: UpstreamConfig] {
        guard let pairs = reader.pairs(e.value, path: e.path) else { return [:] }
        var out: [String: UpstreamConfig] = [:]
        for (name, _, value) in pairs {
            if !declaredUpstreams.contains(name) { declaredUpstreams.append(name) }
            let path = "\(e.path).\(name)"
            guard let o = reader.object(value, path: path, known: ["url", "connect_timeout", "timeout", "tls"]) else { continue }
            var ok = true
            var upstream: UpstreamConfig?
            if let u = reader.require(o, "url"), let s = reader.string(u.value, path: u.path) {
                do {
                    let p = try ConfigScalars.upstreamURL(s.value)
                    upstream = UpstreamConfig(name: name, scheme: p.scheme, host: p.host, port: p.port, basePath: p.basePath)
                } catch {
                    if case .invalid(let reason) = error {
                        reader.fail(s.location, "invalid URL `\(s.shown)` for `\(u.path)`: \(reason)")
                    }
                }
            }
            if let f = o["connect_timeout"] {
                if let v = reader.duration(f.value, path: f.path, positive: true) { upstream?.connectTimeout = v } else { ok = false }
            }
            if let f = o["timeout"] {
                if let v = reader.duration(f.value, path: f.path, positive: true) { upstream?.timeout = v } else { ok = false }
            }
            if let f = o["tls"] {
                if let t = reader.object(f.value, path: f.path, known: ["ca_file", "client_certificate", "client_key"]) {
                    var tls = UpstreamTLS()
                    for g in t.entries {
                        guard let s = reader.string(g.value, path: g.path) else { ok = false; continue }
                        switch g.key {
                        case "ca_file": tls.caFile = resolve(s.value)
                        case "client_certificate": tls.clientCertificate = resolve(s.value)
                        default: tls.clientKey = resolve(s.value)
                        }
                    }
                    if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
                        reader.fail(f.value, "`\(f.path)` needs both `client_certificate` and `client_key`, or neither")
                        ok = false
                    }
                    if let u = upstream, u.scheme != "https" {
                        reader.fail(f.keyNode, "`\(f.path)` is only allowed for an https upstream")
                        ok = false
                    }
                    upstream?.tls = tls
                } else {
                    ok = false
                }
            }
            if ok, let upstream { out[name] = upstream }
        }
        return out
    }

    // MARK: identity

    func parseIdentity(_ e: Entry) -> IdentityConfig {
        var identity = IdentityConfig()
        guard let o = reader.object(e.value, path: e.path,
                                    known: ["subject_header", "issuer_header", "scopes_header", "claims", "strip_prefixes"])
        else { return identity }
        var used: [String: String] = [:]  // lowercased header → where it is used
        // Defaults in force count as used, so a claim header cannot collide with them.
        for (key, h) in [("subject_header", identity.subjectHeader), ("issuer_header", identity.issuerHeader),
                         ("scopes_header", identity.scopesHeader)] where !o.has(key) {
            used[h.lowercased()] = "\(e.path).\(key)"
        }
        func header(_ node: Node, path: String) -> String? {
            guard let s = reader.string(node, path: path) else { return nil }
            guard ConfigScalars.isToken(s.value) else {
                reader.fail(s.location, "`\(path)`: `\(s.shown)` is not a valid header field name")
                return nil
            }
            let lower = s.value.lowercased()
            if forbiddenIdentityHeaders.contains(lower) {
                reader.fail(s.location, "`\(path)`: `\(s.value)` cannot be an identity header")
                return nil
            }
            if let other = used[lower] {
                reader.fail(s.location, "`\(path)`: header `\(s.value)` is already used by `\(other)`")
                return nil
            }
            used[lower] = path
            return s.value
        }
        for f in o.entries {
            switch f.key {
            case "subject_header": if let h = header(f.value, path: f.path) { identity.subjectHeader = h }
            case "issuer_header": if let h = header(f.value, path: f.path) { identity.issuerHeader = h }
            case "scopes_header": if let h = header(f.value, path: f.path) { identity.scopesHeader = h }
            case "claims":
                guard let pairs = reader.pairs(f.value, path: f.path) else { continue }
                for (claim, _, value) in pairs {
                    if let h = header(value, path: "\(f.path).\(claim)") { identity.claims.append((claim, h)) }
                }
            case "strip_prefixes":
                guard let list = reader.stringList(f.value, path: f.path) else { continue }
                var prefixes: [String] = []
                for (i, s) in list.enumerated() {
                    if ConfigScalars.isToken(s.value) {
                        prefixes.append(s.value)
                    } else {
                        reader.fail(s.location, "`\(f.path)[\(i)]`: `\(s.shown)` is not a valid header field name prefix")
                    }
                }
                identity.stripPrefixes = prefixes
            default: break
            }
        }
        return identity
    }

    // MARK: routes

    func parseRoutes(_ e: Entry, issuers: [IssuerConfig], upstreams: [String: UpstreamConfig]) -> [Route] {
        guard let items = reader.list(e.value, path: e.path) else { return [] }
        if items.isEmpty {
            reader.fail(e.value, "`routes` must hold at least one route")
            return []
        }
        var out: [Route] = []
        var names: Set<String> = []
        for (node, path) in items {
            // Names are compared even for routes with other errors.
            guard let parsed = parseRoute(node, path: path, issuers: issuers, upstreams: upstreams) else { continue }
            if let name = parsed.name, !names.insert(name.value).inserted {
                reader.fail(name.location, "duplicate route name `\(name.value)`")
                continue
            }
            if let route = parsed.route { out.append(route) }
        }
        return out
    }

    /// One route entry: nil when it is not a mapping; else its name when that is a valid
    /// string, and the route when the whole entry is valid.
    func parseRoute(_ node: Node, path: String, issuers: [IssuerConfig], upstreams: [String: UpstreamConfig])
        -> (route: Route?, name: ScalarValue?)? {
        guard let o = reader.object(node, path: path, known: ["name", "match", "upstream", "strip_prefix", "auth"])
        else { return nil }
        var ok = true
        let name = reader.require(o, "name").flatMap { reader.string($0.value, path: $0.path) }
        if name == nil { ok = false }
        let match = reader.require(o, "match").flatMap(parseMatch)
        if match == nil { ok = false }
        var upstream: String?
        if let u = reader.require(o, "upstream"), let s = reader.string(u.value, path: u.path) {
            if upstreams[s.value] != nil {
                upstream = s.value
            } else if declaredUpstreams.contains(s.value) {
                ok = false  // declared but invalid: its own error says why
            } else {
                reader.fail(s.location, "unknown upstream `\(s.shown)`" + reader.didYouMean(s.value, among: declaredUpstreams))
            }
        }
        if upstream == nil { ok = false }
        var stripPrefix = false
        if let f = o["strip_prefix"] {
            if let v = reader.bool(f.value, path: f.path) {
                stripPrefix = v
                // Judged from the keys written, so it is reported even when `match` has other errors.
                var hasPrefix = false
                if let m = o["match"], case .mapping(let mm) = m.value { hasPrefix = mm["path_prefix"] != nil }
                if v, !hasPrefix {
                    reader.fail(f.keyNode, "`\(f.path)` is only allowed with `match.path_prefix`")
                    ok = false
                }
            } else {
                ok = false
            }
        }
        var auth: RouteAuth?
        if let a = reader.require(o, "auth", hint: " (use `auth: public` for a route without a token)") {
            auth = parseAuth(a, issuers: issuers)
        }
        guard ok, let name, let match, let upstream, let auth else { return (nil, name) }
        var route = Route(name: name.value, host: match.host, path: match.path, methods: match.methods,
                          upstream: upstream, auth: auth, location: reader.location(node))
        route.caseInsensitive = match.caseInsensitive
        route.stripPrefix = stripPrefix
        return (route, name)
    }

    struct Match {
        var host: String?
        var path: PathMatch
        var methods: Set<String>?
        var caseInsensitive: Bool
    }

    func parseMatch(_ e: Entry) -> Match? {
        guard let o = reader.object(e.value, path: e.path,
                                    known: ["host", "path", "path_prefix", "path_regex", "methods", "case_insensitive"])
        else { return nil }
        var ok = true
        var host: String?
        if let h = o["host"], let s = reader.string(h.value, path: h.path) {
            var v = s.value.lowercased()
            if v.hasPrefix("["), v.hasSuffix("]") { v = String(v.dropFirst().dropLast()) }
            let valid: Bool
            if v.hasPrefix("*.") {
                valid = ConfigScalars.isHostName(String(v.dropFirst(2)))
            } else {
                valid = ConfigScalars.isHostName(v) || ConfigScalars.isIPv6(v)
            }
            if valid {
                host = v
            } else {
                reader.fail(s.location, "`\(h.path)` must be a host name without port (e.g. `api.example.com`) or a wildcard like `*.example.com`, not `\(s.shown)`")
                ok = false
            }
        } else if o.has("host") {
            ok = false
        }
        var caseInsensitive = false
        if let f = o["case_insensitive"] {
            if let v = reader.bool(f.value, path: f.path) { caseInsensitive = v } else { ok = false }
        }
        var path: PathMatch?
        let kinds = o.entries.filter { ["path", "path_prefix", "path_regex"].contains($0.key) }
        if kinds.isEmpty {
            reader.fail(o.node, "`\(e.path)` needs exactly one of `path`, `path_prefix` or `path_regex`")
            ok = false
        } else if kinds.count > 1 {
            reader.fail(kinds[1].keyNode, "`\(e.path)` has both `\(kinds[0].key)` and `\(kinds[1].key)`; exactly one of `path`, `path_prefix` or `path_regex` is allowed")
            ok = false
        } else if let s = reader.string(kinds[0].value, path: kinds[0].path) {
            let k = kinds[0]
            switch k.key {
            case "path_regex":
                do {
                    var re = try Regex(s.value)
                    if caseInsensitive { re = re.ignoresCase() }
                    path = .regex(source: s.value, compiled: re)
                } catch {
                    reader.fail(s.location, "`\(k.path)` is not a valid regular expression: \(error)")
                }
            default:
                if !s.value.hasPrefix("/") {
                    reader.fail(s.location, "`\(k.path)` must start with `/`")
                } else if s.value.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
                    reader.fail(s.location, "`\(k.path)` must not hold spaces, control or non-ASCII characters")
                } else {
                    path = k.key == "path" ? .exact(s.value) : .prefix(s.value)
                }
            }
            if path == nil { ok = false }
        } else {
            ok = false
        }
        var methods: Set<String>?
        if let m = o["methods"] {
            if let list = reader.stringList(m.value, path: m.path) {
                var set: Set<String> = []
                for (i, s) in list.enumerated() {
                    if ConfigScalars.isToken(s.value) {
                        set.insert(s.value.uppercased())
                    } else {
                        reader.fail(s.location, "`\(m.path)[\(i)]`: `\(s.shown)` is not a valid method")
                        ok = false
                    }
                }
                if list.isEmpty, case .sequence = m.value {
                    reader.fail(m.value, "`\(m.path)` must not be empty (leave it out to allow every method)")
                    ok = false
                }
                methods = set
            } else {
                ok = false
            }
        }
        guard ok, let path else { return nil }
        return Match(host: host, path: path, methods: methods, caseInsensitive: caseInsensitive)
    }

    func parseAuth(_ e: Entry, issuers: [IssuerConfig]) -> RouteAuth? {
        if case .scalar = e.value {
            guard let s = reader.scalar(e.value, path: e.path, expected: "`public` or a mapping") else { return nil }
            if s.value == "public" { return .publicAccess }
            let found = !s.quoted && s.tag == .null ? "empty" : "`\(s.shown)`"
            reader.fail(s.location, "`\(e.path)` must be `public` or a mapping with `issuers`, not \(found)"
                + reader.didYouMean(s.value, among: ["public"]))
            return nil
        }
        guard let o = reader.object(e.value, path: e.path,
                                    known: ["issuers", "scopes", "any_scopes", "roles", "claims", "forward_token"])
        else { return nil }
        var ok = true
        var names: [String] = []
        var used: [IssuerConfig] = []
        if let f = reader.require(o, "issuers") {
            if let list = reader.stringList(f.value, path: f.path) {
                if list.isEmpty, case .sequence = f.value {
                    reader.fail(f.value, "`\(f.path)` must name at least one issuer")
                    ok = false
                }
                for s in list {
                    if let issuer = issuers.first(where: { $0.name == s.value }) {
                        if !names.contains(s.value) {
                            names.append(s.value)
                            used.append(issuer)
                        }
                    } else if declaredIssuers.contains(s.value) {
                        ok = false  // declared but invalid: its own error says why
                    } else {
                        reader.fail(s.location, "unknown issuer `\(s.shown)`" + reader.didYouMean(s.value, among: declaredIssuers))
                        ok = false
                    }
                }
            } else {
                ok = false
            }
        } else {
            ok = false
        }
        var req = AuthRequirements(issuers: names)
        for f in o.entries {
            switch f.key {
            case "scopes", "any_scopes", "roles":
                guard let list = reader.stringList(f.value, path: f.path) else { ok = false; continue }
                let values = list.map(\.value)
                if f.key == "scopes" { req.scopes = values }
                if f.key == "any_scopes" { req.anyScopes = values }
                if f.key == "roles" {
                    req.roles = values
                    if !values.isEmpty {
                        for issuer in used where issuer.rolesClaim == nil {
                            reader.fail(f.keyNode, "`\(f.path)` needs `roles_claim` on issuer `\(issuer.name)`")
                            ok = false
                        }
                    }
                }
            case "claims":
                guard let pairs = reader.pairs(f.value, path: f.path) else { ok = false; continue }
                for (claim, _, value) in pairs {
                    let path = "\(f.path).\(claim)"
                    guard let s = reader.scalar(value, path: path, expected: "a string, number or boolean") else {
                        ok = false
                        continue
                    }
                    if s.quoted || s.interpolated {
                        req.claims.append((claim, .string(s.value)))
                    } else {
                        switch s.tag {
                        case .null:
                            reader.fail(s.location, "`\(path)` must be a string, number or boolean, not empty")
                            ok = false
                        case .bool:
                            req.claims.append((claim, .bool(["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"].contains(s.value))))
                        case .int, .float:
                            if let d = Double(s.value), d.isFinite {
                                req.claims.append((claim, .number(d)))
                            } else {
                                reader.fail(s.location, "`\(path)` must be a decimal number, not `\(s.shown)`")
                                ok = false
                            }
                        default: req.claims.append((claim, .string(s.value)))
                        }
                    }
                }
            case "forward_token":
                if let v = reader.bool(f.value, path: f.path) { req.forwardToken = v } else { ok = false }
            default: break
            }
        }
        guard ok else { return nil }
        return .required(req)
    }

    // MARK: warnings

    func warnings(_ config: GatewayConfig) -> [String] {
        var out: [String] = []
        let routes = config.routes
        for (j, later) in routes.enumerated() {
            for earlier in routes[..<j] where covers(earlier, later) {
                let l = later.location
                out.append("\(l.path):\(l.line):\(l.column): warning: route `\(later.name)` can never match: route `\(earlier.name)` before it matches every request it would")
                break
            }
        }
        var used: Set<String> = []
        for r in routes { if case .required(let req) = r.auth { used.formUnion(req.issuers) } }
        for issuer in config.issuers where !used.contains(issuer.name) {
            let l = issuer.keySourceLocation
            out.append("\(l.path):\(l.line):\(l.column): warning: issuer `\(issuer.name)` is not used by any route")
        }
        return out
    }

    /// Whether every request `later` matches is matched by `earlier` (conservative: only
    /// exact/prefix paths; earlier host absent, equal, or a wildcard covering the later host;
    /// earlier methods absent or ⊇ later methods).
    func covers(_ earlier: Route, _ later: Route) -> Bool {
        if let eh = earlier.host {
            guard let lh = later.host else { return false }
            let wildcardCovers = eh.hasPrefix("*.") && lh.hasSuffix(eh.dropFirst()) && lh.count > eh.count - 1
            guard eh == lh || wildcardCovers else { return false }
        }
        if let em = earlier.methods {
            guard let lm = later.methods, lm.isSubset(of: em) else { return false }
        }
        // A case-sensitive earlier route does not cover a case-insensitive later one.
        if later.caseInsensitive, !earlier.caseInsensitive { return false }
        let fold: (String) -> String = earlier.caseInsensitive ? { $0.lowercased() } : { $0 }
        switch (earlier.path, later.path) {
        case let (.exact(a), .exact(b)):
            return fold(a) == fold(b)
        case let (.prefix(p), .exact(b)):
            return RouteTable.prefixMatches(Array(fold(p).utf8), Array(fold(b).utf8)[...])
        case let (.prefix(p), .prefix(q)):
            let pp = Array(fold(p).utf8), qq = Array(fold(q).utf8)
            // Every path under q is under p when q itself is under p.
            return RouteTable.prefixMatches(pp, qq[...])
        default:
            return false
        }
    }
}
