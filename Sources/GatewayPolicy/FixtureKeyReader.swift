// One entry of a policy-test file's `keys:` (see PolicyFixture).
import GatewayJOSE
import Yams

/// `keys.NAME`: `{alg, kid, private_key_file | secret_env, secret_encoding}`.
enum FixtureKeyReader {
    struct Draft {
        var algorithm: JWSAlgorithm?
        var keyID: String?
        var file: String?
        var secretEnv: String?
        var encoding: SecretEncoding = .raw
        var encodingNode: Node?
        var ok = true
    }

    static let fields = FieldTable<Draft>([
        .key("alg", required: true) { b, e, d in
            guard let s = b.reader.string(e.value, path: e.path) else { d.ok = false; return }
            guard let alg = JWSAlgorithm(rawValue: s.value) else {
                let all = JWSAlgorithm.allCases.map(\.rawValue)
                b.reader.fail(s.location, "`\(e.path)` must be one of \(all.joined(separator: ", ")), not `\(ConfigScalars.printable(s.shown))`"
                    + b.reader.didYouMean(s.value, among: all))
                d.ok = false
                return
            }
            d.algorithm = alg
        },
        .key("kid") { b, e, d in
            if let s = b.reader.string(e.value, path: e.path) { d.keyID = s.value } else { d.ok = false }
        },
        .key("private_key_file") { b, e, d in
            if let s = b.reader.string(e.value, path: e.path) { d.file = b.resolve(s.value) } else { d.ok = false }
        },
        .key("secret_env") { b, e, d in
            if let s = b.reader.string(e.value, path: e.path) { d.secretEnv = s.value } else { d.ok = false }
        },
        .key("secret_encoding") { b, e, d in
            guard let s = b.reader.string(e.value, path: e.path) else { d.ok = false; return }
            d.encodingNode = e.keyNode
            guard let v = SecretEncoding(rawValue: s.value) else {
                let all = ["raw", "base64", "base64url"]
                b.reader.fail(s.location, "`\(e.path)` must be raw, base64 or base64url, not `\(ConfigScalars.printable(s.shown))`"
                    + b.reader.didYouMean(s.value, among: all))
                d.ok = false
                return
            }
            d.encoding = v
        },
    ])

    static func key(name: String, at keyNode: Node, _ value: Node, path: String, _ b: ConfigBuilder) -> PolicyFixture.Key? {
        var d = Draft()
        guard fields.read(value, path: path, builder: b, into: &d) != nil, d.ok, let alg = d.algorithm else { return nil }
        let source: PolicyFixture.Key.Source
        switch (d.file, d.secretEnv) {
        case (let file?, nil):
            source = .privateKeyFile(file)
            if let n = d.encodingNode {
                b.reader.fail(n, "`\(path).secret_encoding` is only allowed with `secret_env`")
                return nil
            }
        case (nil, let variable?):
            source = .secretEnv(variable, d.encoding)
        case (nil, nil):
            b.reader.fail(value, "`\(path)` needs `private_key_file` or `secret_env`")
            return nil
        case (_?, _?):
            b.reader.fail(value, "`\(path)` has both `private_key_file` and `secret_env`; exactly one is allowed")
            return nil
        }
        if alg.rawValue.hasPrefix("HS") != (d.secretEnv != nil) {
            b.reader.fail(value, alg.rawValue.hasPrefix("HS")
                ? "`\(path)`: \(alg.rawValue) signs with an HMAC secret: use `secret_env`"
                : "`\(path)`: \(alg.rawValue) signs with a private key: use `private_key_file`")
            return nil
        }
        return PolicyFixture.Key(name: name, algorithm: alg, keyID: d.keyID, source: source, location: b.reader.location(keyNode))
    }
}
