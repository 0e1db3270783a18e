/// Lowercase hexadecimal digits, as trace and span ids are written (W3C Trace Context §3.2.2,
/// OTLP/JSON).
enum Hex {
    static func digit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x57 + v }
    static func high(_ b: UInt8) -> UInt8 { digit(b >> 4) }
    static func low(_ b: UInt8) -> UInt8 { digit(b & 0x0F) }

    /// The bytes of a tuple (`TraceID.Bytes`, `SpanID.Bytes`) as text.
    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(unsafeUninitializedCapacity: raw.count * 2) { out in
                for (i, b) in raw.enumerated() {
                    out[2 * i] = high(b)
                    out[2 * i + 1] = low(b)
                }
                return raw.count * 2
            }
        }
    }

    /// Appends the bytes of a tuple as text.
    static func append<T>(_ tuple: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: tuple) { raw in
            for b in raw {
                out.append(high(b))
                out.append(low(b))
            }
        }
    }
}
