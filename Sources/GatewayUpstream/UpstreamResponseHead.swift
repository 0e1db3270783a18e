import GatewayHTTP

/// A final (non-1xx) upstream response head: the status, the framing the parser checked,
/// and every field line in the form it is written to a client, so that relaying a field
/// is copying its bytes.
///
/// `lines` holds, per field and in the order received, `name ": " value CRLF`: the name as
/// sent, the value without surrounding whitespace (RFC 9110 §5.5). The lines of the fields
/// that are not end-to-end (framing and hop-by-hop fields, `FieldKind`) are also listed in
/// `markedLines`, inline, up to `maxMarkedLines` of them. Hop-by-hop fields are still present
/// (RFC 9110 §7.6.1): removing them is the relaying side's choice.
///
/// `fields` builds `HTTPField`s sharing `lines`, for readers that want them; the relay of a
/// parsed head reads `lines` and `markedLines` directly.
public struct UpstreamResponseHead: Sendable, Equatable {
    /// How the relaying side treats a field, decided from its name as the line is read.
    public enum FieldKind: UInt8, Sendable {
        /// Passed on, unless a `Connection` field names it.
        case endToEnd
        /// `Connection`: hop-by-hop; its options name more hop-by-hop fields.
        case connection
        /// `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Upgrade`, and
        /// `Transfer-Encoding` spelled with `_` (ASCII case-insensitive, `_` as `-`):
        /// always hop-by-hop.
        case hopByHop
        /// `Transfer-Encoding` (ASCII case-insensitive): hop-by-hop, and framing.
        case transferEncoding
        /// `Content-Length` (ASCII case-insensitive): framing.
        case contentLength
        /// A field named `close`: hop-by-hop when a `Connection` field lists `close`.
        case close
    }

    /// One field line in `lines`: bytes `start..<end` (CRLF included), name
    /// `start..<nameEnd`, value `nameEnd + 2..<end - 2`.
    public struct FieldLine: Sendable, Equatable {
        public var start: UInt32
        public var nameEnd: UInt32
        public var end: UInt32
        public var kind: FieldKind
    }

    /// The options the head's `Connection` fields list (RFC 9110 §7.6.1), as flags.
    public struct ConnectionOptions: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `close`, compared as a field name (ASCII case-insensitive, `_` as `-`).
        public static let close = ConnectionOptions(rawValue: 1)
        /// An option other than `close` and `keep-alive` (which names an always hop-by-hop field).
        public static let other = ConnectionOptions(rawValue: 2)
    }

    /// Three-digit status, 200...599 for a parsed head (RFC 9110 §15).
    public var status: Int
    /// The field lines, back to back (see the type's description).
    public private(set) var lines: [UInt8] = []
    /// How many fields `markedLines` lists inline; more go uncounted (`markedLinesOverflow`).
    public static let maxMarkedLines = 4
    /// The first `markedLineCount` entries: the lines of the fields that are not
    /// `.endToEnd`, in order. Inline, so that a usual head costs no allocation beyond `lines`.
    public private(set) var markedLines = InlineArray<4, FieldLine>(
        repeating: FieldLine(start: 0, nameEnd: 0, end: 0, kind: .endToEnd))
    public private(set) var markedLineCount = 0
    /// More than `maxMarkedLines` fields are not end-to-end: `markedLines` lists only the first.
    public private(set) var markedLinesOverflow = false
    /// The options of the head's `Connection` fields.
    public private(set) var connectionOptions: ConnectionOptions = []
    /// The `Content-Length` value as checked, or nil.
    public var contentLength: UInt64?
    /// `Transfer-Encoding: chunked` was received.
    public var chunked: Bool
    /// Whether the connection may carry another exchange after this response: an HTTP/1.1
    /// status line and no `close` in `Connection` (RFC 9112 §9.3).
    public var persistent: Bool
    /// Made by `ResponseHeadParser`, which refuses all but one valid `Content-Length` or one
    /// `Transfer-Encoding: chunked`, and every name that is not a token or value that is not
    /// a valid field value: the lines can be relayed as they are.
    public internal(set) var framingChecked = false

    /// A head from fields (tests, and heads not read from the wire). A field that could not be
    /// written is left out, as `HTTPResponseHead.serialized` leaves it out: a name that is not a
    /// token, a value that is not a valid field value (RFC 9110 §5.1, §5.5). The framing is
    /// not checked: `framingChecked` is false.
    public init(status: Int, fields: [HTTPField], contentLength: UInt64? = nil, chunked: Bool = false,
                persistent: Bool = true) {
        self.status = status
        self.contentLength = contentLength
        self.chunked = chunked
        self.persistent = persistent
        for field in fields {
            field.withNameBytes { name in
                field.withValueBytes { value in
                    guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTokenChar),
                          value.allSatisfy(HTTPSyntax.isFieldValueByte),
                          value.first.map({ $0 != 0x20 && $0 != 0x09 }) ?? true,
                          value.last.map({ $0 != 0x20 && $0 != 0x09 }) ?? true else { return }
                    appendField(name: name, value: value)
                }
            }
        }
    }

    /// An empty head for the parser to fill.
    init() {
        status = 0
        chunked = false
        persistent = true
    }

    /// Two heads are equal when they hold the same status, field lines and framing, however
    /// they were made (`framingChecked` aside).
    public static func == (a: UpstreamResponseHead, b: UpstreamResponseHead) -> Bool {
        // The marked lines and connection options follow from `lines`.
        a.status == b.status && a.lines == b.lines && a.contentLength == b.contentLength && a.chunked == b.chunked
            && a.persistent == b.persistent
    }

    /// The fields, in order (each shares `lines`): each line's name ends at its first `:`
    /// (a token has none) and the line at its LF (a value has none).
    public var fields: [HTTPField] {
        var fields: [HTTPField] = []
        fields.reserveCapacity(fieldCount)
        var start = 0
        while start < lines.count {
            let colon = lines[start...].firstIndex(of: 0x3A)!
            let end = lines[colon...].firstIndex(of: 0x0A)! + 1
            fields.append(HTTPField(bytes: lines, name: start..<colon, value: colon + 2..<end - 2))
            start = end
        }
        return fields
    }

    /// How many fields the head has.
    public private(set) var fieldCount = 0

    /// Appends one field line: `name ": " value CRLF`.
    /// - Returns: the field's kind.
    /// - Precondition: `lines` stays under 4 GiB (heads are bounded far below).
    @discardableResult
    mutating func appendField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> FieldKind {
        let start = lines.count
        if start == 0 { lines.reserveCapacity(512) }
        lines.append(contentsOf: name)
        let nameEnd = lines.count
        lines.append(0x3A); lines.append(0x20)
        lines.append(contentsOf: value)
        lines.append(0x0D); lines.append(0x0A)
        return record(start: start, nameEnd: nameEnd, end: lines.count, name: name, value: value)
    }

    /// Appends field lines that `recordLine` already recorded, in their order.
    mutating func appendLines(_ bytes: UnsafeRawBufferPointer) {
        lines.append(contentsOf: bytes)
    }

    /// Records a field line that is already `name ": " value CRLF` and that `appendLines`
    /// puts at `start..<start + line.count` of `lines`; its name is `nameCount` bytes.
    /// - Returns: the field's kind.
    mutating func recordLine(_ line: UnsafeRawBufferPointer, at start: Int, nameCount: Int) -> FieldKind {
        record(start: start, nameEnd: start + nameCount, end: start + line.count,
               name: UnsafeRawBufferPointer(rebasing: line[0..<nameCount]),
               value: UnsafeRawBufferPointer(rebasing: line[(nameCount + 2)..<(line.count - 2)]))
    }

    private mutating func record(start: Int, nameEnd: Int, end: Int, name: UnsafeRawBufferPointer,
                                 value: UnsafeRawBufferPointer) -> FieldKind {
        fieldCount += 1
        let kind = Self.kind(of: name)
        guard kind != .endToEnd else { return kind }
        if kind == .connection { connectionOptions.formUnion(Self.options(value)) }
        guard markedLineCount < markedLines.count else {
            markedLinesOverflow = true
            return kind
        }
        markedLines[markedLineCount] = FieldLine(start: UInt32(truncatingIfNeeded: start),
                                                 nameEnd: UInt32(truncatingIfNeeded: nameEnd),
                                                 end: UInt32(truncatingIfNeeded: end), kind: kind)
        markedLineCount += 1
        return kind
    }

    /// `name`'s kind. The hop-by-hop names are `HopByHop.classify`'s (compared with `_` as
    /// `-`), so there is one list of them; the framing names compare exactly, as the framing
    /// check does, and `close` is the `Connection` option a field may be named after.
    @inline(__always)
    static func kind(of name: UnsafeRawBufferPointer) -> FieldKind {
        switch name.count {
        case 5:
            return matches(name, "close") ? .close : .endToEnd
        case 14:
            return HTTPSyntax.equalsLowercase(name, "content-length") ? .contentLength : .endToEnd
        case 17 where HTTPSyntax.equalsLowercase(name, "transfer-encoding"):
            return .transferEncoding
        default:
            break
        }
        switch HopByHop.classify(name) {
        case .connection: return .connection
        case .alwaysRemoved: return .hopByHop
        case .endToEnd: return .endToEnd
        }
    }

    /// What a `Connection` value lists, its elements compared as field names.
    static func options(_ value: UnsafeRawBufferPointer) -> ConnectionOptions {
        var found: ConnectionOptions = []
        HTTPSyntax.forEachListElement(value) { option in
            if matches(option, "close") {
                found.insert(.close)
            } else if !matches(option, "keep-alive") {
                found.insert(.other)
            }
        }
        return found
    }

    private static func matches(_ name: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        HTTPSyntax.equalsLowercase(name, literal, underscoreAsHyphen: true)
    }
}
