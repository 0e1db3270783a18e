// gateway.yml → GatewayConfig. Pure: the caller reads the file and the environment.
import Yams

/// Parses and validates `gateway.yml`: YAML composition in `YAMLComposer`, the schema walk in
/// `ConfigBuilder` (one field table per section), cross-checks in `ConfigCrossChecks`.
public enum ConfigLoader {
    /// Largest config file accepted, in bytes (a reader needs at most one byte more to tell).
    public static let maxFileBytes = 1 << 20

    /// Parses and validates the bytes of a config file: at most `maxFileBytes`, UTF-8.
    /// - Parameters:
    ///   - contents: the file's bytes, as read by the caller.
    ///   - path: used in error locations and to resolve relative key paths (relative to the
    ///     config file's directory).
    ///   - environment: looks up `${NAME}` (nil: unset).
    /// - Throws: `ConfigErrors`: too large, not UTF-8, or any `parse(yaml:)` error.
    public static func parse(contents: [UInt8], path: String,
                             environment: @escaping (String) -> String?) throws(ConfigErrors) -> GatewayConfig {
        let start = ConfigLocation(path: path, line: 1, column: 1)
        guard contents.count <= maxFileBytes else {
            throw ConfigErrors([ConfigError(location: start, message: "the configuration file is larger than \(maxFileBytes) bytes")])
        }
        guard let text = String(validating: contents, as: UTF8.self) else {
            throw ConfigErrors([ConfigError(location: start, message: "the configuration file is not valid UTF-8")])
        }
        return try parse(yaml: text, path: path, environment: environment)
    }

    /// `parse(yaml:path:environment:)` with the environment as a dictionary.
    public static func parse(yaml: String, path: String, environment: [String: String]) throws(ConfigErrors) -> GatewayConfig {
        try parse(yaml: yaml, path: path, environment: { environment[$0] })
    }

    /// Parses and validates a whole config.
    /// - Parameters:
    ///   - yaml: file contents; `path` is used in error locations and to resolve relative key paths
    ///     (relative to the config file's directory).
    ///   - environment: looks up `${NAME}` (nil: unset).
    /// - Throws: `ConfigErrors` with every problem found (YAML syntax, duplicate keys, unknown keys,
    ///   wrong types, bad values, unset variables, duplicate names, missing references), in file
    ///   order, and the issuers whose own entries are valid (`parsedIssuers`).
    public static func parse(yaml: String, path: String,
                             environment: @escaping (String) -> String?) throws(ConfigErrors) -> GatewayConfig {
        let document: YAMLComposer.ComposedDocument
        do {
            document = try YAMLComposer.compose(yaml)
        } catch {
            throw ConfigErrors([YAMLComposer.yamlError(error.error, yaml: yaml, path: path, insertions: error.insertions)])
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

    /// The directory holding the config file ("" when `path` has none: relative paths stay as written).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
