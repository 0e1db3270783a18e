// YAML text → Yams node tree, keeping every duplicate key as an error at its later occurrence.
import Yams

/// Composes `gateway.yml` with Yams and maps Yams errors to `PATH:LINE:COLUMN` errors.
enum YAMLComposer {
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
