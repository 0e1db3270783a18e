/// Validates the chunk extensions of one chunk-size line, byte by byte (RFC 9112 §7.1.1):
///
///     chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
///     chunk-ext-name = token
///     chunk-ext-val  = token / quoted-string
///
/// with RFC 9110 §5.6.4 quoted strings (`qdtext` and `\` quoted-pairs). The extensions are
/// then ignored, but a line the grammar does not allow (`0;ext="a`, `1;=x`, `1;a=`) is
/// refused: a server that reads it differently (up to the next `"`, say) would split the
/// body elsewhere than the gateway.
struct ChunkExtensionScanner: Sendable {
    private enum State: Sendable {
        /// After the chunk-size: BWS, then ";".
        case beforeSemicolon
        /// After ";": BWS, then the name's first token character.
        case beforeName
        case name
        /// BWS after the name: "=", ";" or the end.
        case afterName
        /// After "=": BWS, then a token or a quoted string.
        case beforeValue
        case tokenValue
        case quotedValue
        /// After "\" inside a quoted string.
        case quotedPair
        /// BWS after a value: ";" or the end.
        case afterValue
    }

    private var state: State = .beforeSemicolon

    /// Takes one byte of the line (never the CR that ends it).
    /// - Throws: `HTTPParseError.badRequest` when the byte cannot continue the grammar.
    mutating func feed(_ b: UInt8) throws(HTTPParseError) {
        let ws = b == 0x20 || b == 0x09
        let semicolon = b == UInt8(ascii: ";")
        switch state {
        case .beforeSemicolon:
            if semicolon { state = .beforeName } else if !ws { throw .badRequest("invalid chunk size") }
        case .beforeName:
            if HTTPSyntax.isTokenChar(b) { state = .name } else if !ws { throw Self.invalid }
        case .name:
            if HTTPSyntax.isTokenChar(b) { break }
            if ws { state = .afterName } else if b == UInt8(ascii: "=") { state = .beforeValue }
            else if semicolon { state = .beforeName } else { throw Self.invalid }
        case .afterName:
            if b == UInt8(ascii: "=") { state = .beforeValue } else if semicolon { state = .beforeName }
            else if !ws { throw Self.invalid }
        case .beforeValue:
            if HTTPSyntax.isTokenChar(b) { state = .tokenValue } else if b == UInt8(ascii: "\"") { state = .quotedValue }
            else if !ws { throw Self.invalid }
        case .tokenValue:
            if HTTPSyntax.isTokenChar(b) { break }
            if ws { state = .afterValue } else if semicolon { state = .beforeName } else { throw Self.invalid }
        case .quotedValue:
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            if b == UInt8(ascii: "\"") { state = .afterValue }
            else if b == UInt8(ascii: "\\") { state = .quotedPair }
            else if !(ws || b == 0x21 || (b >= 0x23 && b <= 0x7E) || b >= 0x80) { throw Self.invalid }
        case .quotedPair:
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            guard ws || (b >= 0x21 && b <= 0x7E) || b >= 0x80 else { throw Self.invalid }
            state = .quotedValue
        case .afterValue:
            if semicolon { state = .beforeName } else if !ws { throw Self.invalid }
        }
    }

    /// Whether the line may end here (at its CR): after a complete name or value. Trailing
    /// BWS before the CR is allowed only after an extension, as before (`1 ` alone is not a
    /// chunk-size line).
    var mayEnd: Bool {
        switch state {
        case .name, .afterName, .tokenValue, .afterValue: true
        default: false
        }
    }

    private static let invalid = HTTPParseError.badRequest("invalid chunk extension")
}
