// Hand-written walk over Yams `Node`s: every value keeps its `Mark`, and every problem is
// collected (not thrown) so `gateway check` can list them all at once.
import Yams

/// A scalar after `${NAME}` interpolation, with where it came from.
struct ScalarValue {
    /// Text after interpolation.
    var value: String
    /// Text as written in the file.
    var raw: String
    var tag: Tag.Name
    var quoted: Bool
    var location: ConfigLocation
    var interpolated: Bool
    /// What an error message may show: the text as written when it came from the environment
    /// (the value might be a secret), else the value.
    var shown: String { interpolated ? raw : value }
}

/// One `key: value` of a mapping.
struct Entry {
    let key: String
    let keyNode: Node
    let value: Node
    /// Dotted path of the value, e.g. `issuers[0].algorithms`.
    let path: String
}

/// A mapping whose keys were checked against the known set.
struct Object {
    let node: Node
    let path: String
    /// Known entries in file order.
    let entries: [Entry]
    subscript(key: String) -> Entry? { entries.first { $0.key == key } }
    func has(_ key: String) -> Bool { self[key] != nil }
}

/// A node's position as Yams marks it (for sets of nodes already seen).
struct MarkKey: Hashable {
    let line: Int
    let column: Int
    init(_ node: Node) {
        line = node.mark?.line ?? 0
        column = node.mark?.column ?? 0
    }
}

final class ConfigReader {
    let file: String
    /// `${NAME}` → its value (nil: unset); supplied by the caller, which owns the process environment.
    let environment: (String) -> String?
    /// Text inserted into the YAML before it was composed (see `YAMLComposer.compose`);
    /// `location` maps marks back to the file as written.
    let insertions: [TextInsertion]
    private(set) var errors: [ConfigError] = []
    /// Scalars whose `${NAME}`s were already replaced (so `checkInterpolation` skips them).
    private var interpolated: Set<MarkKey> = []
    /// Keys reported as unknown (their values are not looked at).
    private var unknownKeys: Set<MarkKey> = []

    init(file: String, environment: @escaping (String) -> String?, insertions: [TextInsertion] = []) {
        self.file = file
        self.environment = environment
        self.insertions = insertions
    }

    func location(_ node: Node) -> ConfigLocation {
        let mark = node.mark
        let (line, column) = TextInsertion.original(line: mark?.line ?? 1, column: mark?.column ?? 1, after: insertions)
        return ConfigLocation(path: file, line: line, column: column)
    }

    func fail(_ node: Node, _ message: String) { fail(location(node), message) }
    func fail(_ location: ConfigLocation, _ message: String) {
        errors.append(ConfigError(location: location, message: message))
    }

    static func join(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }

    /// "a mapping", "a list", "a string"... for type errors.
    func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s):
            if s.style != .plain { return "a string" }
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return "empty"
            case .bool: return "a boolean"
            case .int, .float: return "a number"
            default: return "a string"
            }
        }
    }

    /// Checks `node` is a mapping, reports unknown keys (with a suggestion) and non-string keys.
    func object(_ node: Node, path: String, known: [String]) -> Object? {
        guard case .mapping(let mapping) = node else {
            fail(node, "\(path.isEmpty ? "the configuration" : "`\(path)`") must be a mapping, not \(kind(node))")
            return nil
        }
        var entries: [Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let k) = keyNode else {
                fail(keyNode, "keys in `\(path.isEmpty ? "the top level" : path)` must be strings")
                continue
            }
            let key = k.string
            if known.contains(key) {
                entries.append(Entry(key: key, keyNode: keyNode, value: value, path: Self.join(path, key)))
            } else {
                unknownKeys.insert(MarkKey(keyNode))
                let place = path.isEmpty ? "unknown top-level key `\(key)`" : "unknown key `\(key)` in `\(path)`"
                fail(keyNode, place + didYouMean(key, among: known))
            }
        }
        return Object(node: node, path: path, entries: entries)
    }

    /// The entry, or an error "missing required key" at the mapping.
    func require(_ object: Object, _ key: String, hint: String = "") -> Entry? {
        if let e = object[key] { return e }
        let place = object.path.isEmpty ? "missing required top-level key `\(key)`"
            : "missing required key `\(key)` in `\(object.path)`"
        fail(object.node, place + hint)
        return nil
    }

    /// A scalar with `${NAME}` replaced from the environment; errors for non-scalars and
    /// missing variables (at the scalar).
    func scalar(_ node: Node, path: String, expected: String) -> ScalarValue? {
        guard case .scalar(let s) = node else {
            fail(node, "`\(path)` must be \(expected), not \(kind(node))")
            return nil
        }
        let loc = location(node)
        interpolated.insert(MarkKey(node))
        guard s.string.contains("${") else {
            return ScalarValue(value: s.string, raw: s.string, tag: Tag.Name(rawValue: node.tag.rawValue), quoted: s.style != .plain,
                               location: loc, interpolated: false)
        }
        var out = ""
        var rest = s.string[...]
        var ok = true
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: "}") else {
                fail(loc, "unterminated `${` in `\(path)`")
                ok = false
                rest = ""
                break
            }
            let name = String(after[..<end])
            if !isVariableName(name) {
                fail(loc, "invalid environment variable name `\(name)` in `\(path)`")
                ok = false
            } else if let v = environment(name) {
                out += v
            } else {
                fail(loc, "environment variable `\(name)` is not set (used in `\(path)`)")
                ok = false
            }
            rest = after[after.index(after: end)...]
        }
        out += rest
        guard ok else { return nil }
        return ScalarValue(value: out, raw: s.string, tag: .str, quoted: s.style != .plain,
                           location: loc, interpolated: true)
    }

    /// Reports `${NAME}` problems in every scalar value under `node` that the schema walk did
    /// not read (values it skipped because of other errors, alternatives not allowed together,
    /// sections after a broken one), so one run lists every missing variable. Values of
    /// unknown keys and mapping keys are not looked at.
    func checkInterpolation(_ node: Node, path: String) {
        switch node {
        case .scalar(let s):
            if s.string.contains("${"), !interpolated.contains(MarkKey(node)) {
                _ = scalar(node, path: path, expected: "a string")
            }
        case .mapping(let mapping):
            for (k, v) in mapping where !unknownKeys.contains(MarkKey(k)) {
                checkInterpolation(v, path: Self.join(path, k.string ?? "?"))
            }
        case .sequence(let seq):
            for (i, item) in seq.enumerated() { checkInterpolation(item, path: "\(path)[\(i)]") }
        case .alias:
            break
        }
    }

    /// `; did you mean `X`?` when `word` is close to one of `candidates` (see `suggestion`), else "".
    func didYouMean(_ word: String, among candidates: [String]) -> String {
        suggestion(for: word, among: candidates).map { "; did you mean `\($0)`?" } ?? ""
    }

    func isVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == UInt8(ascii: "_")
        }
    }

    /// A non-empty string (numbers written plainly are read as their text).
    func string(_ node: Node, path: String) -> ScalarValue? {
        guard let s = scalar(node, path: path, expected: "a string") else { return nil }
        if !s.quoted, s.tag == .null {
            fail(node, "`\(path)` must be a string, not empty")
            return nil
        }
        if s.value.isEmpty {
            fail(node, "`\(path)` must not be empty")
            return nil
        }
        return s
    }

    /// `true` or `false`.
    func bool(_ node: Node, path: String) -> Bool? {
        guard let s = scalar(node, path: path, expected: "true or false") else { return nil }
        switch s.value {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            fail(node, "`\(path)` must be true or false, not `\(s.shown)`" + didYouMean(s.value, among: ["true", "false"]))
            return nil
        }
    }

    /// A whole number > 0.
    func positiveInt(_ node: Node, path: String) -> Int? {
        guard let s = scalar(node, path: path, expected: "a whole number") else { return nil }
        guard s.value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let v = Int(s.value) else {
            fail(node, "`\(path)` must be a whole number, not `\(s.shown)`")
            return nil
        }
        guard v > 0 else {
            fail(node, "`\(path)` must be greater than zero")
            return nil
        }
        return v
    }

    /// A duration in seconds (`ConfigScalars.duration`); `positive` also refuses zero.
    func duration(_ node: Node, path: String, positive: Bool) -> Double? {
        guard let s = scalar(node, path: path, expected: "a duration like `30s`") else { return nil }
        do {
            let v = try ConfigScalars.duration(s.value)
            if positive, v <= 0 {
                fail(node, "`\(path)` must be greater than zero")
                return nil
            }
            return v
        } catch {
            guard case .invalid(let reason) = error else { return nil }
            fail(node, "invalid duration `\(s.shown)` for `\(path)`: \(reason)")
            return nil
        }
    }

    /// A size in bytes > 0 (`ConfigScalars.size`).
    func size(_ node: Node, path: String) -> Int? {
        guard let s = scalar(node, path: path, expected: "a size like `16KiB`") else { return nil }
        do {
            let v = try ConfigScalars.size(s.value)
            guard v > 0 else {
                fail(node, "`\(path)` must be greater than zero")
                return nil
            }
            return v
        } catch {
            guard case .invalid(let reason) = error else { return nil }
            fail(node, "invalid size `\(s.shown)` for `\(path)`: \(reason)")
            return nil
        }
    }

    /// A list of non-empty strings (each checked, bad items reported and skipped).
    func stringList(_ node: Node, path: String) -> [ScalarValue]? {
        guard case .sequence(let seq) = node else {
            fail(node, "`\(path)` must be a list, not \(kind(node))")
            return nil
        }
        var out: [ScalarValue] = []
        for (i, item) in seq.enumerated() {
            if let s = string(item, path: "\(path)[\(i)]") { out.append(s) }
        }
        return out
    }

    /// Items of a list, with their paths.
    func list(_ node: Node, path: String) -> [(Node, String)]? {
        guard case .sequence(let seq) = node else {
            fail(node, "`\(path)` must be a list, not \(kind(node))")
            return nil
        }
        return seq.enumerated().map { ($0.element, "\(path)[\($0.offset)]") }
    }

    /// Pairs of a mapping whose keys are free-form strings (claims maps, upstream names).
    func pairs(_ node: Node, path: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            fail(node, "`\(path)` must be a mapping, not \(kind(node))")
            return nil
        }
        var out: [(key: String, keyNode: Node, value: Node)] = []
        for (k, v) in mapping {
            guard case .scalar(let ks) = k, !ks.string.isEmpty else {
                fail(k, "keys in `\(path)` must be non-empty strings")
                continue
            }
            out.append((ks.string, k, v))
        }
        return out
    }
}
