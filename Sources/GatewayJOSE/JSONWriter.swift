/// JSON text for a value (compact, for tests and minting; RFC 8259).
public enum JSONWriter {
    /// Compact JSON: no whitespace, members in order, numbers as their literal text.
    public static func serialize(_ value: JSONValue) -> String {
        var out = [UInt8]()
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(_ value: JSONValue) -> [UInt8] {
        var out = [UInt8]()
        write(value, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.text.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (k, (name, item)) in members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeString(name, into: &out)
                out.append(UInt8(ascii: ":"))
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        appendString(s, to: &out)
    }

    /// Appends `s` as a JSON string (RFC 8259 §7), quotes included: `"` and `\` escaped,
    /// LF, CR and HTAB as `\n` `\r` `\t`, the other C0 controls and DEL (0x7F) as `\u00xx`,
    /// U+2028 and U+2029 as `\u2028` `\u2029` (line terminators to JavaScript), everything
    /// else as its UTF-8. The gateway's JSON string escaper: logs, refusal bodies, minted
    /// tokens (the access log writes the same escapes straight into its batch buffer,
    /// `AccessLogWriter`, which a test checks byte for byte against this one).
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let utf8 = s.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let c = utf8[index]
            utf8.formIndex(after: &index)
            switch c {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20, 0x7F:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(c >> 4)], hexDigits[Int(c & 15)]])
            case 0xE2:
                // U+2028 / U+2029 are E2 80 A8 / E2 80 A9 in UTF-8 (`s` is valid UTF-8).
                var next = index
                if next != utf8.endIndex, utf8[next] == 0x80 {
                    utf8.formIndex(after: &next)
                    if next != utf8.endIndex, utf8[next] == 0xA8 || utf8[next] == 0xA9 {
                        out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x32, 0x30, 0x32, utf8[next] == 0xA8 ? 0x38 : 0x39])
                        index = utf8.index(after: next)
                        continue
                    }
                }
                out.append(c)
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `appendString` as a `String`: `"a\u007fb"` for `a<DEL>b`.
    public static func quotedString(_ s: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count + 2)
        appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
