/// Hop-by-hop header handling (RFC 9110 §7.6.1).
public enum HopByHop {
    /// Field names that are always hop-by-hop, lowercase. `Proxy-Connection` is a
    /// non-standard one that some clients still send.
    public static let alwaysRemoved: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Above this many options named by `Connection` fields, the nominated names are looked
    /// up in a set instead of compared one by one (bounds the work on a hostile head).
    static let maxOptionsComparedDirectly = 16

    /// Removes `Connection`, every field it names, and `Keep-Alive`, `Proxy-Connection`,
    /// `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade` (case-insensitive, `_` the same as
    /// `-`: an upstream behind a CGI-style environment reads `Transfer_Encoding` as
    /// `Transfer-Encoding`, so it must not survive next to the gateway's own framing).
    /// Names are matched as bytes; no String is built unless `Connection` names more than
    /// `maxOptionsComparedDirectly` options.
    /// - Parameter fields: the fields as received; order of the kept fields is preserved.
    /// - Returns: the end-to-end fields (`fields` itself when none is hop-by-hop).
    public static func removing(from fields: [HTTPField]) -> [HTTPField] {
        var firstRemoved = -1
        var options = 0
        for i in fields.indices {
            let kind = fields[i].withNameBytes(classify)
            guard kind != .endToEnd else { continue }
            if firstRemoved < 0 { firstRemoved = i }
            if kind == .connection {
                fields[i].withValueBytes { HTTPSyntax.forEachListElement($0) { _ in options += 1 } }
            }
        }
        if firstRemoved < 0 { return fields }
        // A `Connection` option names a field wherever it stands, before `Connection` too:
        // with options, every field is checked.
        let checkedFrom = options == 0 ? firstRemoved : 0
        var out: [HTTPField] = []
        out.reserveCapacity(fields.count - 1)
        out.append(contentsOf: fields[..<checkedFrom])
        if options == 0 {
            for f in fields[firstRemoved...] where f.withNameBytes(classify) == .endToEnd { out.append(f) }
        } else if options <= maxOptionsComparedDirectly {
            let connections = fields.filter { $0.withNameBytes(classify) == .connection }
            for f in fields where f.withNameBytes(classify) == .endToEnd {
                if !f.withNameBytes({ isNominated($0, by: connections) }) { out.append(f) }
            }
        } else {
            var names = Set<String>()
            for c in fields where c.withNameBytes(classify) == .connection {
                c.withValueBytes {
                    HTTPSyntax.forEachListElement($0) {
                        names.insert(HTTPSyntax.comparableFieldName(String(decoding: $0, as: UTF8.self)))
                    }
                }
            }
            for f in fields where f.withNameBytes(classify) == .endToEnd {
                if !names.contains(HTTPSyntax.comparableFieldName(f.name)) { out.append(f) }
            }
        }
        return out
    }

    /// How a field name is treated before looking at `Connection`'s options.
    public enum Kind: Sendable {
        case endToEnd
        /// `Connection` itself: removed, and its options name more fields to remove.
        case connection
        /// One of the other always-removed names.
        case alwaysRemoved
    }

    /// `name`'s kind: a switch on its length, then an ASCII case-insensitive compare with
    /// `_` as `-` (`HTTPSyntax.comparableFieldName`).
    public static func classify(_ name: UnsafeRawBufferPointer) -> Kind {
        switch name.count {
        case 2:
            return named(name, "te") ? .alwaysRemoved : .endToEnd
        case 7:
            return named(name, "trailer") || named(name, "upgrade") ? .alwaysRemoved : .endToEnd
        case 10:
            if named(name, "connection") { return .connection }
            return named(name, "keep-alive") ? .alwaysRemoved : .endToEnd
        case 16:
            return named(name, "proxy-connection") ? .alwaysRemoved : .endToEnd
        case 17:
            return named(name, "transfer-encoding") ? .alwaysRemoved : .endToEnd
        default:
            return .endToEnd
        }
    }

    /// Whether `name` is an option of one of the `Connection` fields `connections`.
    static func isNominated(_ name: UnsafeRawBufferPointer, by connections: [HTTPField]) -> Bool {
        var found = false
        for c in connections where !found {
            c.withValueBytes {
                HTTPSyntax.forEachListElement($0) { option in
                    if !found && HTTPSyntax.equalsAsFieldNames(name, option) { found = true }
                }
            }
        }
        return found
    }

    private static func named(_ name: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        HTTPSyntax.equalsLowercase(name, literal, underscoreAsHyphen: true)
    }
}
