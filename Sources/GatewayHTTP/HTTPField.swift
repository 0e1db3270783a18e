/// One header field as received: name with its original case, value with
/// surrounding whitespace removed (RFC 9110 §5.5).
///
/// A field the parser produced keeps byte ranges into its head's bytes (one array shared by
/// every field of that head); `name` and `value` build a String only when read. Matching
/// (`hasName(_:)`, `HopByHop`, `HTTPRequestHead.values(_:)`) and writing
/// (`withNameBytes`, `withValueBytes`) work on the bytes and build no String.
/// Two fields are equal when their names and values are the same bytes.
public struct HTTPField: Sendable, Equatable, CustomStringConvertible {
    @usableFromInline
    enum Storage: Sendable {
        /// Made from Strings (`init(name:value:)` or a setter).
        case text(name: String, value: String)
        /// Ranges of `bytes`: name `nameStart..<nameEnd`, value `valueStart..<valueEnd`.
        case slice(bytes: [UInt8], nameStart: UInt32, nameEnd: UInt32, valueStart: UInt32, valueEnd: UInt32)
    }

    @usableFromInline
    var storage: Storage

    public init(name: String, value: String) {
        storage = .text(name: name, value: value)
    }

    /// A field whose name is `bytes[name]` and value `bytes[value]`, sharing `bytes`.
    /// The caller has validated both (a token name, a field value that is valid UTF-8,
    /// RFC 9110 §5.1, §5.5); offsets must fit in 32 bits.
    @inlinable
    public init(bytes: [UInt8], name: Range<Int>, value: Range<Int>) {
        storage = .slice(bytes: bytes, nameStart: UInt32(truncatingIfNeeded: name.lowerBound),
                         nameEnd: UInt32(truncatingIfNeeded: name.upperBound),
                         valueStart: UInt32(truncatingIfNeeded: value.lowerBound),
                         valueEnd: UInt32(truncatingIfNeeded: value.upperBound))
    }

    /// The name as sent (a String built on each read of a parsed field).
    @inlinable
    public var name: String {
        get {
            switch storage {
            case .text(let name, _): name
            case .slice: withNameBytes { String(decoding: $0, as: UTF8.self) }
            }
        }
        set { storage = .text(name: newValue, value: value) }
    }

    /// The value, OWS-trimmed (a String built on each read of a parsed field).
    @inlinable
    public var value: String {
        get {
            switch storage {
            case .text(_, let value): value
            case .slice: withValueBytes { String(decoding: $0, as: UTF8.self) }
            }
        }
        set { storage = .text(name: name, value: newValue) }
    }

    /// Calls `body` with the name's bytes (valid only inside `body`).
    @inlinable
    public func withNameBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .text(let name, _):
            return try Self.withUTF8(name, body)
        case .slice(let bytes, let start, let end, _, _):
            return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(start)..<Int(end)])) }
        }
    }

    /// Calls `body` with the value's bytes (valid only inside `body`).
    @inlinable
    public func withValueBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .text(_, let value):
            return try Self.withUTF8(value, body)
        case .slice(let bytes, _, _, let start, let end):
            return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(start)..<Int(end)])) }
        }
    }

    /// Whether the name equals `name`, ASCII case-insensitively (RFC 9110 §5.1).
    @inlinable
    public func hasName(_ name: String) -> Bool {
        withNameBytes { mine in Self.withUTF8(name) { HTTPSyntax.equalsIgnoringASCIICase(mine, $0) } }
    }

    /// Whether the name equals `name` as `HTTPSyntax.comparableFieldName` compares: ASCII
    /// case-insensitive with `_` the same as `-`.
    @inlinable
    public func hasComparableName(_ name: String) -> Bool {
        withNameBytes { mine in Self.withUTF8(name) { HTTPSyntax.equalsAsFieldNames(mine, $0) } }
    }

    /// The value's length in bytes.
    public var valueByteCount: Int {
        switch storage {
        case .text(_, let value): value.utf8.count
        case .slice(_, _, _, let start, let end): Int(end - start)
        }
    }

    public static func == (a: HTTPField, b: HTTPField) -> Bool {
        let names = a.withNameBytes { x in b.withNameBytes { y in x.elementsEqual(y) } }
        return names && a.withValueBytes { x in b.withValueBytes { y in x.elementsEqual(y) } }
    }

    public var description: String {
        "HTTPField(name: \(String(reflecting: name)), value: \(String(reflecting: value)))"
    }

    /// The UTF-8 bytes of `s` without copying when it is stored contiguously (native and
    /// small strings), else through a copy.
    @inlinable
    static func withUTF8<R>(_ s: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let r = try s.utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return r
        }
        return try Array(s.utf8).withUnsafeBytes(body)
    }
}
