/// A JSON number kept exactly as it appeared (RFC 8259 §6), never rounded through `Double`.
///
/// - `text` is the literal (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`), so an integer
///   of any size keeps its exact digits and a fraction reads as it was written.
/// - Equality is exact mathematical value: `9007199254740993` is not `9007199254740992`,
///   while `1`, `1.0`, `10e-1` and `-0`/`0` are equal (RFC 8259 §6 gives numbers no other
///   identity than their value). Hashing agrees with equality.
/// - `doubleValue` is the nearest `Double` (±infinity when the magnitude passes it), for
///   time arithmetic only.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal, valid RFC 8259 number grammar.
    public let text: String

    /// Exponent digits accepted (after leading zeros): keeps the canonical exponent in an `Int`.
    static let maxExponentDigits = 18

    /// `text` must be valid number grammar with an exponent of at most 18 digits; the JSON
    /// reader checked it.
    init(validated text: String) { self.text = text }

    /// A literal checked against RFC 8259 §6; nil when it is not one (`+1`, `01`, `1.`,
    /// `.5`, `1e`, an exponent over 18 digits).
    public init?(_ text: String) {
        guard JSONNumber.canonical(Array(text.utf8)) != nil else { return nil }
        self.text = text
    }

    /// An integer, written as its decimal digits.
    public init(_ value: Int) { text = String(value) }

    /// A finite `Double`: integral values within ±2^53 as digits, others in Swift's
    /// shortest round-trip form (`0.5`, `1e+300`). Not for non-finite values (JSON has none).
    public init(_ value: Double) {
        precondition(value.isFinite, "JSON has no NaN or infinity")
        if value == value.rounded(), abs(value) <= 9_007_199_254_740_992 {
            text = String(Int64(value))
        } else {
            text = value.description
        }
    }

    public var description: String { text }

    /// The nearest `Double`; ±infinity beyond its range (e.g. `1e400`).
    public var doubleValue: Double {
        // Fast path for the common NumericDate shape: up to 15 digits are exact in a Double.
        var v: Int64 = 0
        var digits = 0
        for c in text.utf8 {
            guard c >= 0x30 && c <= 0x39, digits < 15 else { return Double(text) ?? .nan }
            v = v * 10 + Int64(c - 0x30)
            digits += 1
        }
        return Double(v)
    }

    /// Whether the literal has neither a fraction nor an exponent (`42`, `-7`).
    public var isIntegerLiteral: Bool { !text.utf8.contains { $0 == 0x2E || $0 == 0x45 || $0 == 0x65 } }

    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        a.text == b.text || canonical(Array(a.text.utf8)) == canonical(Array(b.text.utf8))
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(JSONNumber.canonical(Array(text.utf8)))
    }

    /// Value `(-1)^negative × digits × 10^exponent` with `digits` free of leading and
    /// trailing zeros; zero is `(false, "", 0)`.
    struct Canonical: Hashable {
        var negative: Bool
        var digits: [UInt8]
        var exponent: Int
    }

    /// The canonical value of a literal, or nil when `b` is not RFC 8259 number grammar
    /// (or its exponent has over `maxExponentDigits` significant digits).
    static func canonical(_ b: [UInt8]) -> Canonical? {
        var i = 0
        func isDigit(_ k: Int) -> Bool { k < b.count && b[k] >= 0x30 && b[k] <= 0x39 }
        var negative = false
        if i < b.count, b[i] == 0x2D { negative = true; i += 1 }
        guard isDigit(i) else { return nil }
        var digits: [UInt8] = []
        if b[i] == 0x30 {
            i += 1
            if isDigit(i) { return nil }
        } else {
            while isDigit(i) { digits.append(b[i]); i += 1 }
        }
        var fractionDigits = 0
        if i < b.count, b[i] == 0x2E {
            i += 1
            guard isDigit(i) else { return nil }
            while isDigit(i) { digits.append(b[i]); fractionDigits += 1; i += 1 }
        }
        var exponent = 0
        if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
            i += 1
            var negativeExponent = false
            if i < b.count, b[i] == 0x2B || b[i] == 0x2D { negativeExponent = b[i] == 0x2D; i += 1 }
            guard isDigit(i) else { return nil }
            while i < b.count, b[i] == 0x30, isDigit(i + 1) { i += 1 }
            var count = 0
            while isDigit(i) {
                count += 1
                if count > maxExponentDigits { return nil }
                exponent = exponent * 10 + Int(b[i] - 0x30)
                i += 1
            }
            if negativeExponent { exponent = -exponent }
        }
        guard i == b.count else { return nil }
        exponent -= fractionDigits
        let firstNonZero = digits.firstIndex { $0 != 0x30 } ?? digits.count
        digits.removeFirst(firstNonZero)
        if digits.isEmpty { return Canonical(negative: false, digits: [], exponent: 0) }
        while digits.last == 0x30 { digits.removeLast(); exponent += 1 }
        return Canonical(negative: negative, digits: digits, exponent: exponent)
    }
}
