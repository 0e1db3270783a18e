/// Hop-by-hop header handling (RFC 9110 §7.6.1).
public enum HopByHop {
    /// Field names that are always hop-by-hop, lowercase. `Proxy-Connection` is a
    /// non-standard one that some clients still send.
    public static let alwaysRemoved: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removes `Connection`, every field it names, and `Keep-Alive`, `Proxy-Connection`,
    /// `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade` (case-insensitive).
    /// - Parameter fields: the fields as received; order of the kept fields is preserved.
    /// - Returns: the end-to-end fields.
    public static func removing(from fields: [HTTPField]) -> [HTTPField] {
        var names = alwaysRemoved
        for field in fields where HTTPSyntax.equalsIgnoringASCIICase(field.name, "connection") {
            for option in HTTPSyntax.listElements(field.value) {
                names.insert(HTTPSyntax.asciiLowercased(String(option)))
            }
        }
        return fields.filter { !names.contains(HTTPSyntax.asciiLowercased($0.name)) }
    }
}
