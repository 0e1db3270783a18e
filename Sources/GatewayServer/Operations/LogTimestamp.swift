import GatewayJOSE

/// The `time` of a log line, `RFC3339.string(epochSeconds:)` as bytes
/// (`2026-12-03T12:34:56.789Z`), with the calendar part (up to the seconds) formatted once
/// per second and reused for every line in that second.
struct LogTimestamp {
    private var second = Int64.min
    /// `YYYY-MM-DDTHH:MM:SS` of `second`.
    private var prefix: [UInt8] = []

    /// Appends the time `epochSeconds` (rounded to whole microseconds, then truncated to
    /// milliseconds, as `RFC3339` does).
    mutating func append(epochSeconds: Double, to out: inout [UInt8]) {
        let clamped = min(max(epochSeconds, -62_167_219_200), 253_402_300_799.999)
        let micros = Int64((clamped * 1_000_000).rounded())
        let millis = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        if seconds != second {
            var text: [UInt8] = []
            text.reserveCapacity(24)
            RFC3339.append(epochSeconds: Double(seconds), milliseconds: false, to: &text)
            text.removeLast()  // the "Z"
            prefix = text
            second = seconds
        }
        out.append(contentsOf: prefix)
        let ms = Int(millis - seconds * 1000)
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(ms / 100))
        out.append(UInt8(ascii: "0") + UInt8(ms / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(ms % 10))
        out.append(UInt8(ascii: "Z"))
    }
}
