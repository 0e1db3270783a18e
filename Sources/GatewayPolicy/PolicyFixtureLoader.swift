// Policy-test files (`gateway test`) → PolicyFixture, read with the same YAML walk as
// gateway.yml: unknown keys, wrong types and bad values are `PATH:LINE:COLUMN: message`.
import GatewayHTTP
import GatewayJOSE
import Yams

/// Parses and validates a policy-test file. Pure: the caller reads the file.
public enum PolicyFixtureLoader {
    /// Largest fixture file accepted, in bytes.
    public static let maxFileBytes = 1 << 20

    /// Parses the bytes of the fixture file at `path` (relative key files are resolved against
    /// its directory); `environment` looks up `${NAME}`.
    /// - Throws: `ConfigErrors` with every problem found, in file order.
    public static func parse(contents: [UInt8], path: String,
                             environment: @escaping (String) -> String?) throws(ConfigErrors) -> PolicyFixture {
        let start = ConfigLocation(path: path, line: 1, column: 1)
        guard contents.count <= maxFileBytes else {
            throw ConfigErrors([ConfigError(location: start, message: "the fixture file is larger than \(maxFileBytes) bytes")])
        }
        guard let yaml = String(validating: contents, as: UTF8.self) else {
            throw ConfigErrors([ConfigError(location: start, message: "the fixture file is not valid UTF-8")])
        }
        let document: YAMLComposer.ComposedDocument
        do {
            document = try YAMLComposer.compose(yaml)
        } catch {
            throw ConfigErrors([YAMLComposer.yamlError(error.error, yaml: yaml, path: path, insertions: error.insertions)])
        }
        guard let root = document.root else {
            throw ConfigErrors([ConfigError(location: start, message: "the fixture file is empty")])
        }
        let reader = ConfigReader(file: path, environment: environment, insertions: document.insertions)
        for d in document.duplicates {
            let first = reader.location(d.first)
            reader.fail(d.node, "duplicate key `\(d.key)` (first at line \(first.line), column \(first.column))")
        }
        let builder = ConfigBuilder(reader: reader, baseDirectory: ConfigLoader.directory(of: path))
        var draft = FileDraft()
        fields.read(root, path: "", builder: builder, into: &draft)
        checkReferences(draft, reader)
        let errors = ConfigErrors(reader.errors).sortedByLocation()
        guard errors.errors.isEmpty else { throw errors }
        return PolicyFixture(path: path, keys: draft.keys, cases: draft.cases)
    }

    // MARK: File

    struct FileDraft {
        var keys: [PolicyFixture.Key] = []
        var cases: [PolicyFixture.Case] = []
        /// Each token's key name, where it is written.
        var keyReferences: [(name: String, node: Node)] = []
        /// Every key and case name written, valid or not (a reference to an invalid key is
        /// not reported again; duplicate case names are found even among invalid cases).
        var declaredKeys: [String] = []
        var caseNames: [(name: String, location: ConfigLocation)] = []
    }

    static let fields = FieldTable<FileDraft>([
        .key("keys") { b, e, d in
            guard let pairs = b.reader.pairs(e.value, path: e.path) else { return }
            for (name, keyNode, value) in pairs {
                d.declaredKeys.append(name)
                if let key = FixtureKeyReader.key(name: name, at: keyNode, value, path: "\(e.path).\(name)", b) {
                    d.keys.append(key)
                }
            }
        },
        .key("cases", required: true) { b, e, d in
            guard let items = b.reader.list(e.value, path: e.path) else { return }
            if items.isEmpty { b.reader.fail(e.value, "`cases` must hold at least one case") }
            for (node, path) in items {
                var c = CaseDraft(location: b.reader.location(node))
                guard FixtureCaseReader.fields.read(node, path: path, builder: b, into: &c) != nil else { continue }
                if let ref = c.keyReference { d.keyReferences.append(ref) }
                if let name = c.name {
                    if let earlier = d.caseNames.first(where: { $0.name == name }) {
                        b.reader.fail(c.location, "duplicate case name `\(name)` (first at line \(earlier.location.line))")
                        continue
                    }
                    d.caseNames.append((name, c.location))
                }
                guard let name = c.name, let request = c.request, let expect = c.expect, c.ok else { continue }
                d.cases.append(PolicyFixture.Case(name: name, request: request, token: c.token, expect: expect,
                                                  location: c.location))
            }
        },
    ])

    static func checkReferences(_ d: FileDraft, _ reader: ConfigReader) {
        let names = d.declaredKeys
        for (name, node) in d.keyReferences where !names.contains(name) {
            reader.fail(node, "unknown signing key `\(name)`"
                + (names.isEmpty ? " (the file has no `keys`)" : reader.didYouMean(name, among: names)))
        }
    }

    // MARK: Case

    struct CaseDraft {
        var location: ConfigLocation
        var ok = true
        var name: String?
        var request: PolicyFixture.Request?
        var token: PolicyFixture.Token?
        var keyReference: (name: String, node: Node)?
        var expect: PolicyFixture.Expectation?
    }
}
