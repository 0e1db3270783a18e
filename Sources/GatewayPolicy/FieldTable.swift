// The schema of one YAML mapping as data: the keys it allows are exactly the keys it reads.
import Yams

/// One key of a mapping (or a group of keys of which at most one may be written, such as an
/// issuer's key sources), with the code that reads its value into `Draft`.
struct ConfigField<Draft>: Sendable {
    enum Reader: Sendable {
        /// Reads the entry for `key`.
        case single(@Sendable (ConfigBuilder, Entry, inout Draft) -> Void)
        /// Reads the entries written for the group's keys, in file order (possibly none).
        case group(@Sendable (ConfigBuilder, Object, [Entry], inout Draft) -> Void)
    }

    let keys: [String]
    /// Reported as "missing required key" (with `hint` appended) when absent.
    let required: Bool
    let hint: String
    let reader: Reader

    /// A key read by `read` when written.
    static func key(_ key: String, required: Bool = false, hint: String = "",
                    _ read: @escaping @Sendable (ConfigBuilder, Entry, inout Draft) -> Void) -> ConfigField {
        ConfigField(keys: [key], required: required, hint: hint, reader: .single(read))
    }

    /// Keys read together by `read` (which judges how many of them may be written).
    static func group(_ keys: [String],
                      _ read: @escaping @Sendable (ConfigBuilder, Object, [Entry], inout Draft) -> Void) -> ConfigField {
        ConfigField(keys: keys, required: false, hint: "", reader: .group(read))
    }
}

/// The fields of one mapping, in the order they are read (which is the order of their errors
/// at one place). `known` — the keys the mapping accepts — is derived from the fields, so a key
/// can only be accepted by giving it the code that reads it.
struct FieldTable<Draft>: Sendable {
    let fields: [ConfigField<Draft>]

    init(_ fields: [ConfigField<Draft>]) {
        self.fields = fields
        var seen: Set<String> = []
        for key in fields.flatMap(\.keys) {
            precondition(seen.insert(key).inserted, "config key `\(key)` is listed twice in one field table")
        }
    }

    /// Every key the mapping accepts, in table order.
    var known: [String] { fields.flatMap(\.keys) }

    /// Checks `node` is a mapping of known keys (unknown ones reported, with "did you mean"),
    /// then reads every field into `draft`. Nil when `node` is not a mapping.
    @discardableResult
    func read(_ node: Node, path: String, builder: ConfigBuilder, into draft: inout Draft) -> Object? {
        guard let object = builder.reader.object(node, path: path, known: known) else { return nil }
        read(object, builder: builder, into: &draft)
        return object
    }

    /// Reads every field of an already checked mapping into `draft`: in table order, or with
    /// `fileOrder` in the order the keys are written (for fields whose checks compare a value
    /// with the ones before it, such as header names already used).
    func read(_ object: Object, builder: ConfigBuilder, into draft: inout Draft, fileOrder: Bool = false) {
        if fileOrder {
            for entry in object.entries {
                guard let field = fields.first(where: { $0.keys.contains(entry.key) }),
                      case .single(let read) = field.reader
                else { preconditionFailure("fileOrder reads single keys only; `\(entry.key)` is not one") }
                read(builder, entry, &draft)
            }
            for field in fields where field.required && object[field.keys[0]] == nil {
                _ = builder.reader.require(object, field.keys[0], hint: field.hint)
            }
            return
        }
        for field in fields {
            switch field.reader {
            case .single(let read):
                if let entry = object[field.keys[0]] {
                    read(builder, entry, &draft)
                } else if field.required {
                    _ = builder.reader.require(object, field.keys[0], hint: field.hint)
                }
            case .group(let read):
                read(builder, object, object.entries.filter { field.keys.contains($0.key) }, &draft)
            }
        }
    }
}
