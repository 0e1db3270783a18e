/// Hop-by-hop header handling (RFC 9110 §7.6.1).
public enum HopByHop {
    /// Field names that are always hop-by-hop, lowercase. `Proxy-Connection` is a
    /// non-standard one that some clients still send.
    public static let alwaysRemoved: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removes `Connection`, every field it names, and `Keep-Alive`, `Proxy-Connection`,
    /// `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade` (case-insensitive, `_` the same as
    /// `-`: an upstream behind a CGI-style environment reads `Transfer_Encoding` as
    /// `Transfer-Encoding`, so it must not survive next to the gateway's own framing).
    /// - Parameter fields: the fields as received; order of the kept fields is preserved.
    /// - Returns: the end-to-end fields.
    public static func removing(from fields: [HTTPField]) -> [HTTPField] {
        var names = alwaysRemoved
        for field in fields where HTTPSyntax.comparableFieldName(field.name) == "connection" {
            for option in HTTPSyntax.listElements(field.value) {
                names.insert(HTTPSyntax.comparableFieldName(String(option)))
            }
        }
        return fields.filter { !names.contains(HTTPSyntax.comparableFieldName($0.name)) }
    }
}
