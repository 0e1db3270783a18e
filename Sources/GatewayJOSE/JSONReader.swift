/// Strict JSON reader (RFC 8259) that refuses duplicate member names.
///
/// Refused: anything RFC 8259 §2–§8 does not allow (leading zeros, `+1`, `.5`, trailing
/// commas, comments, raw control characters in strings, invalid UTF-8, lone surrogates
/// in `\u` escapes, text after the value), numbers beyond the finite IEEE 754 double
/// range (RFC 7493 §2.2: `1e400`; within it numbers stay exact, see `JSONNumber`), duplicate member names (RFC 7515 §5.2 step 4, RFC 8725 §3.2) and nesting deeper
/// than `maxDepth`.
public enum JSONReader {
    /// Nesting limit for arrays and objects: tokens and JWK Sets are shallow, and a limit
    /// keeps recursion bounded.
    public static let maxDepth = 32

    /// - Throws: `TokenError.malformed`.
    public static func parse(_ bytes: [UInt8]) throws(TokenError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buf) throws(TokenError) -> JSONValue in try parse(buffer: buf) }
    }

    /// The same over raw bytes, without copying them.
    static func parse(buffer: UnsafeBufferPointer<UInt8>) throws(TokenError) -> JSONValue {
        var p = Parser(b: buffer)
        p.skipWhitespace()
        let v = try p.value(depth: 0)
        p.skipWhitespace()
        guard p.i == buffer.count else { throw TokenError.malformed("JSON: text after the value") }
        return v
    }
}

private struct Parser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    /// Up to this many members, duplicate names are found by comparing with each earlier name.
    static let linearNameLimit = 16

    @inline(__always) func fail(_ why: String) -> TokenError { .malformed("JSON: \(why)") }

    /// RFC 8259 §2: ws = space, tab, LF, CR.
    mutating func skipWhitespace() {
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 } else { break }
        }
    }

    mutating func literal(_ word: StaticString) throws(TokenError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("truncated literal") }
        let w = word.utf8Start
        for k in 0..<n where b[i + k] != w[k] { throw fail("invalid literal") }
        i += n
    }

    mutating func value(depth: Int) throws(TokenError) -> JSONValue {
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character")
        }
    }

    mutating func object(depth: Int) throws(TokenError) -> JSONValue {
        guard depth <= JSONReader.maxDepth else { throw fail("nested too deeply") }
        i += 1
        var members: [(String, JSONValue)] = []
        // Built only for objects with many members; small ones are scanned.
        var names: Set<String>? = nil
        skipWhitespace()
        if i < b.count && b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        // One allocation for a typical header or claims set instead of growing 1, 2, 4, 8.
        members.reserveCapacity(8)
        while true {
            skipWhitespace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("member name expected") }
            let name = try string()
            // Duplicate names are ambiguous (RFC 8259 §4); JOSE requires refusing them.
            // `==` (Unicode canonical equivalence), as a `Set<String>` compares: names that
            // are canonically equivalent are duplicates too.
            if names == nil && members.count < Parser.linearNameLimit {
                for (other, _) in members where other == name { throw fail("duplicate member name") }
            } else {
                if names == nil { names = Set(members.lazy.map(\.0)) }
                guard names!.insert(name).inserted else { throw fail("duplicate member name") }
            }
            skipWhitespace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("':' expected") }
            i += 1
            skipWhitespace()
            let v = try value(depth: depth)
            members.append((name, v))
            skipWhitespace()
            guard i < b.count else { throw fail("unexpected end") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw fail("',' or '}' expected")
        }
    }

    mutating func array(depth: Int) throws(TokenError) -> JSONValue {
        guard depth <= JSONReader.maxDepth else { throw fail("nested too deeply") }
        i += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if i < b.count && b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth))
            skipWhitespace()
            guard i < b.count else { throw fail("unexpected end") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("',' or ']' expected")
        }
    }

    @inline(__always) static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    mutating func hex4() throws(TokenError) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let h = Parser.hex(b[i + k]) else { throw fail("bad \\u escape") }
            v = v << 4 | h
        }
        i += 4
        return v
    }

    /// RFC 8259 §7. The opening quote is at `i`.
    mutating func string() throws(TokenError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        var high: UInt8 = 0  // OR of the bytes: bit 7 set when any is not ASCII
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: b[start..<i])
                i += 1
                // ASCII is valid UTF-8: no validation (and no generic decoding path) needed.
                if high & 0x80 == 0 { return String(decoding: raw, as: UTF8.self) }
                guard let s = String(validating: raw, as: UTF8.self) else { throw fail("invalid UTF-8") }
                return s
            }
            high |= c
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            i += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: b[start..<i]))
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8") }
                return s
            }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low <= 0xDFFF else { throw fail("lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    throw fail("lone surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("bad \\u escape") }
                out.append(contentsOf: UTF8.encode(u)!)
            default:
                throw fail("bad escape")
            }
        }
    }

    /// RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, kept as its text
    /// (exact at any size; see `JSONNumber`).
    mutating func number() throws(TokenError) -> JSONNumber {
        let start = i
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, b[i] >= 0x30 && b[i] <= 0x39 else { throw fail("bad number") }
        let integerStart = i
        if b[i] == 0x30 {
            i += 1
            if i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { throw fail("leading zero") }
        } else {
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        }
        // An integer of up to 308 digits is below Double's largest finite value.
        var mayPassDoubleRange = i - integerStart > 308
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count, b[i] >= 0x30 && b[i] <= 0x39 else { throw fail("bad fraction") }
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, b[i] >= 0x30 && b[i] <= 0x39 else { throw fail("bad exponent") }
            let digitsStart = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            // The exponent must fit the canonical form's Int (see `JSONNumber`).
            var significant = i - digitsStart
            var k = digitsStart
            while k < i - 1, b[k] == 0x30 { k += 1; significant -= 1 }
            guard significant <= JSONNumber.maxExponentDigits else { throw fail("exponent out of range") }
            mayPassDoubleRange = true
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        if mayPassDoubleRange, !(Double(text)?.isFinite ?? false) { throw fail("number out of range") }
        return JSONNumber(validated: text)
    }
}
