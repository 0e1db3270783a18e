import GatewayJOSE

/// The `time` of a log line, `RFC3339.string(epochSeconds:)` as bytes
/// (`2026-12-03T12:34:56.789Z`, always `length` bytes), with the calendar part (up to the
/// seconds) formatted once per second and reused for every line in that second.
///
/// A plain value (no storage to retain): a loop copies it out of its buffer, writes a line
/// with it and stores it back.
struct LogTimestamp {
    /// Bytes `write` writes.
    static let length = 24
    /// Bytes of the calendar part `YYYY-MM-DDTHH:MM:SS` (the year is clamped to 0000...9999).
    private static let prefixLength = 19

    private var second = Int64.min
    /// `YYYY-MM-DDTHH:MM:SS` of `second` in its first `prefixLength` bytes.
    private var prefix: (UInt64, UInt64, UInt64) = (0, 0, 0)

    /// Writes the time `epochSeconds` (rounded to whole microseconds, then truncated to
    /// milliseconds, as `RFC3339` does) at `p`, `length` bytes.
    /// - Returns: the position after the last byte written.
    mutating func write(epochSeconds: Double, at p: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let clamped = min(max(epochSeconds, -62_167_219_200), 253_402_300_799.999)
        let micros = Int64((clamped * 1_000_000).rounded())
        let millis = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        if seconds != second { format(seconds) }
        withUnsafeBytes(of: &prefix) { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: Self.prefixLength) }
        let ms = Int(millis - seconds * 1000)
        p[19] = UInt8(ascii: ".")
        p[20] = UInt8(ascii: "0") + UInt8(ms / 100)
        p[21] = UInt8(ascii: "0") + UInt8(ms / 10 % 10)
        p[22] = UInt8(ascii: "0") + UInt8(ms % 10)
        p[23] = UInt8(ascii: "Z")
        return p + Self.length
    }

    /// `write(epochSeconds:at:)` appended to `out`.
    mutating func append(epochSeconds: Double, to out: inout [UInt8]) {
        var text = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &text) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            _ = write(epochSeconds: epochSeconds, at: p)
            out.append(contentsOf: UnsafeBufferPointer(start: p, count: Self.length))
        }
    }

    /// Formats the calendar part of `seconds` (once per second).
    private mutating func format(_ seconds: Int64) {
        var text: [UInt8] = []
        text.reserveCapacity(24)
        RFC3339.append(epochSeconds: Double(seconds), milliseconds: false, to: &text)
        precondition(text.count == Self.prefixLength + 1, "RFC 3339 seconds are YYYY-MM-DDTHH:MM:SSZ")
        withUnsafeMutableBytes(of: &prefix) { $0.copyBytes(from: text[0..<Self.prefixLength]) }
        second = seconds
    }
}
