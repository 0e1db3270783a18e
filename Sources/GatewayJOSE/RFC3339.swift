/// RFC 3339 §5.6 timestamps in UTC (`Z`), without Foundation's date formatters: the one
/// formatter for log lines, check findings and anything else the gateway prints as a time.
/// Pure: the caller passes the time (seconds since the Unix epoch, e.g. from a clock).
public enum RFC3339 {
    /// `"2026-12-03T09:52:11.123Z"` (milliseconds, truncated) or, with `milliseconds: false`,
    /// `"2026-12-03T09:52:11Z"` (seconds, truncated). Times before 1970 count back correctly;
    /// years outside 0000–9999 are clamped to that range.
    public static func string(epochSeconds: Double, milliseconds: Bool = true) -> String {
        var out = [UInt8]()
        out.reserveCapacity(24)
        append(epochSeconds: epochSeconds, milliseconds: milliseconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `string(epochSeconds:milliseconds:)` appended as bytes (no intermediate String).
    public static func append(epochSeconds: Double, milliseconds: Bool = true, to out: inout [UInt8]) {
        // Whole microseconds first: a Double near 1.7e9 s carries ~0.2 µs of noise, so
        // truncating straight to milliseconds could turn .123 into .122.
        let clampedSeconds = min(max(epochSeconds, -62_167_219_200), 253_402_300_799.999)
        let micros = Int64((clampedSeconds * 1_000_000).rounded())
        let millis = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        append(seconds: seconds, millisecond: milliseconds ? Int(millis - seconds * 1000) : nil, to: &out)
    }

    /// The calendar fields of `seconds` since the epoch, with `millisecond` as a fraction
    /// when given.
    static func append(seconds: Int64, millisecond: Int?, to out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(daysSinceEpoch: days)
        digits(Int(year), 4, &out); out.append(0x2D)
        digits(month, 2, &out); out.append(0x2D)
        digits(day, 2, &out); out.append(0x54)  // T
        digits(secondOfDay / 3600, 2, &out); out.append(0x3A)
        digits(secondOfDay / 60 % 60, 2, &out); out.append(0x3A)
        digits(secondOfDay % 60, 2, &out)
        if let millisecond { out.append(0x2E); digits(millisecond, 3, &out) }
        out.append(0x5A)  // Z
    }

    /// Proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's
    /// `civil_from_days`).
    static func civil(daysSinceEpoch: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097                                    // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365  // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)              // [0, 365]
        let mp = (5 * doy + 2) / 153                                   // [0, 11]
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func digits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(0x30 + UInt8(v / divisor % 10))
            v %= divisor
            divisor /= 10
        }
    }
}
