import GatewayCore

/// A cursor writing the pieces of an access-log line straight into memory the caller has
/// reserved: JSON strings escaped as `JSONWriter.appendString` escapes them, integers as
/// `String(UInt64)` writes them, milliseconds as `String(Double)` writes them.
///
/// Unchecked on purpose (it is on every request's path): the caller reserves at least the
/// sum of the pieces' `maximumLength`s before writing (`AccessLog.maximumLineLength`).
struct AccessLogWriter {
    /// The next byte to write.
    private(set) var position: UnsafeMutablePointer<UInt8>
    /// `specialTable`, read once per line.
    private let special: UnsafePointer<UInt8>

    init(at start: UnsafeMutablePointer<UInt8>) {
        position = start
        special = Self.specialTable
    }

    /// At most this many bytes for `string(s)`: quotes, and 6 bytes (`\u00xx`) per byte.
    @inline(__always)
    static func maximumLength(_ s: String) -> Int { 2 + 6 * s.utf8.count }
    /// At most this many bytes for `decimal`.
    static let maximumDecimalLength = 20
    /// At most this many bytes for `milliseconds` (`String(Double)` is at most 24 bytes).
    static let maximumMillisecondsLength = 32

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        position.pointee = b
        position += 1
    }

    /// The bytes of a literal.
    @inline(__always)
    mutating func literal(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        position.update(from: s.utf8Start, count: n)
        position += n
    }

    /// The time `epochSeconds` as `LogTimestamp` writes it (`LogTimestamp.length` bytes).
    @inline(__always)
    mutating func time(_ epochSeconds: Double, through timestamp: inout LogTimestamp) {
        position = timestamp.write(epochSeconds: epochSeconds, at: position)
    }

    /// `s` as a JSON string, quotes included. Plain runs (no `"`, `\\`, control byte, DEL
    /// or 0xE2) are copied while checked; a string with anything to escape is written
    /// again from its start, escaped.
    mutating func string(_ s: String) {
        if copyIfPlain(s, stoppingAt: Self.escapes) != 0 { escaped(s) }
    }

    /// `string(LogRedaction.redact(s))`: the check for the bytes redaction starts from (`?`,
    /// `;`, `#`, `%`, `J`) rides on the copy, so a target without them is looked at once.
    mutating func redactedString(_ s: String) {
        let found = copyIfPlain(s, stoppingAt: Self.escapes | Self.redactionStarts)
        if found == 0 { return }
        if found & Self.redactionStarts != 0 {
            string(LogRedaction.redact(s))
        } else {
            escaped(s)
        }
    }

    /// Copies `s` quoted when none of its bytes has a `stoppingAt` bit in `special`.
    /// - Returns: 0 when written; else the `special` bits of its bytes (nothing is kept:
    ///   `position` is unchanged).
    private mutating func copyIfPlain(_ s: String, stoppingAt mask: UInt8) -> UInt8 {
        let result: UInt8? = s.utf8.withContiguousStorageIfAvailable { bytes in
            let n = bytes.count
            let q = position + 1
            var found: UInt8 = 0
            if let src = bytes.baseAddress {
                for k in 0..<n {
                    let b = src[k]
                    q[k] = b
                    found |= special[Int(b)]
                }
            }
            guard found & mask == 0 else { return found }
            position.pointee = 0x22
            q[n] = 0x22
            position = q + n + 1
            return 0
        }
        if let result { return result }
        var found: UInt8 = 0
        for b in s.utf8 { found |= special[Int(b)] }
        return found & mask == 0 ? copyIfPlainSlowly(s) : found
    }

    /// `copyIfPlain` for a String without contiguous UTF-8 (not made by this process).
    private mutating func copyIfPlainSlowly(_ s: String) -> UInt8 {
        byte(0x22)
        for b in s.utf8 { byte(b) }
        byte(0x22)
        return 0
    }

    /// `JSONWriter.appendString` (RFC 8259 §7): `"` and `\` escaped, LF, CR and HTAB as
    /// `\n` `\r` `\t`, other C0 controls and DEL as `\u00xx`, U+2028 and U+2029 as
    /// `\u2028` `\u2029`, everything else as its UTF-8.
    private mutating func escaped(_ s: String) {
        byte(0x22)
        let utf8 = s.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let c = utf8[index]
            utf8.formIndex(after: &index)
            switch c {
            case 0x22: byte(0x5C); byte(0x22)
            case 0x5C: byte(0x5C); byte(0x5C)
            case 0x0A: byte(0x5C); byte(UInt8(ascii: "n"))
            case 0x0D: byte(0x5C); byte(UInt8(ascii: "r"))
            case 0x09: byte(0x5C); byte(UInt8(ascii: "t"))
            case 0x00..<0x20, 0x7F:
                literal("\\u00")
                byte(Self.hexDigit(c >> 4))
                byte(Self.hexDigit(c & 15))
            case 0xE2:
                // U+2028 / U+2029 are E2 80 A8 / E2 80 A9 in UTF-8 (`s` is valid UTF-8).
                var next = index
                if next != utf8.endIndex, utf8[next] == 0x80 {
                    utf8.formIndex(after: &next)
                    if next != utf8.endIndex, utf8[next] == 0xA8 || utf8[next] == 0xA9 {
                        literal("\\u202")
                        byte(utf8[next] == 0xA8 ? 0x38 : 0x39)
                        index = utf8.index(after: next)
                        continue
                    }
                }
                byte(c)
            default:
                byte(c)
            }
        }
        byte(0x22)
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x57 + v }

    /// `v` in decimal, as `String(v)` writes it.
    mutating func decimal(_ v: UInt64) {
        var digits = 1
        var rest = v
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        var n = v
        var k = digits
        while k > 0 {
            k -= 1
            position[k] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: n % 10)
            n /= 10
        }
        position += digits
    }

    /// `AccessLog.milliseconds(seconds)` written as `String(Double)` writes it, without
    /// building one: for whole microseconds `m` below 10^15 the shortest form of the Double
    /// `m / 1000` is the decimal `m / 1000` with its trailing zeros dropped (one digit after
    /// the point at least), since a decimal of at most 15 significant digits names exactly
    /// one Double.
    mutating func milliseconds(_ seconds: Double) {
        let scaled = (seconds * 1_000_000).rounded()
        guard scaled.sign == .plus && scaled < 1e15 else { return double(AccessLog.milliseconds(seconds)) }
        let micros = UInt64(scaled)
        decimal(micros / 1000)
        let thousandths = UInt16(micros % 1000)
        // ".ddd", then the trailing zeros dropped (one digit after the point at least).
        position[0] = UInt8(ascii: ".")
        position[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: thousandths / 100)
        position[2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: thousandths / 10 % 10)
        position[3] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: thousandths % 10)
        var length = 4
        while length > 2 && position[length - 1] == UInt8(ascii: "0") { length -= 1 }
        position += length
    }

    /// `String(d)`, or `null` when not finite (rare: the plain way).
    private mutating func double(_ d: Double) {
        var text = d.isFinite ? String(d) : "null"
        text.withUTF8 { bytes in
            let n = min(bytes.count, Self.maximumMillisecondsLength)
            if let src = bytes.baseAddress { position.update(from: src, count: n) }
            position += n
        }
    }

    /// The 32 lowercase hexadecimal digits of a 16-byte id.
    mutating func hex<T>(_ tuple: T) {
        withUnsafeBytes(of: tuple) { raw in
            for b in raw {
                position[0] = Self.hexDigit(b >> 4)
                position[1] = Self.hexDigit(b & 15)
                position += 2
            }
        }
    }

    /// `special` bit: a byte `string` escapes (`AccessLog.plainJSONBytes` is 0).
    static let escapes: UInt8 = 1
    /// `special` bit: a byte redaction starts from (`LogRedaction.redact` looks further).
    static let redactionStarts: UInt8 = 2

    /// The `escapes` and `redactionStarts` bits of every byte, kept for the life of the
    /// process and never written after it is filled (so safe to share).
    nonisolated(unsafe) private static let specialTable: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for b in 0..<256 {
            table[b] = (AccessLog.plainJSONBytes[b] == 0 ? escapes : 0)
                | (LogRedaction.mayStartRedaction(UInt8(b)) ? redactionStarts : 0)
        }
        return UnsafePointer(table)
    }()
}
