/// The cookies of one request: every `cookie-pair` of every `Cookie` field, in order
/// (RFC 6265 §4.2, §5.4). Several `Cookie` fields (as an HTTP/2 hop may produce, RFC 9113
/// §8.2.3) read as one list.
///
/// Parsing is tolerant for the cookies the gateway does not use (they are forwarded byte for
/// byte, whatever their syntax) and strict for the one it looks up: `lookup` answers
/// `.malformed` or `.duplicated` whenever another parser could read a different value.
/// Splitting is on `;` only; spaces and tabs after `;` (and around the field) are skipped.
public struct CookieList: Sendable, Equatable {
    public let pairs: [CookiePair]

    /// Reads the `Cookie` fields (name compared ASCII case-insensitively) among `fields`.
    /// Empty pairs (`a=1;;b=2`, a trailing `;`) are skipped.
    /// - Throws: `CookieParseError.tooManyPairs` over `limits.maxPairs`.
    public static func parse(_ fields: [HTTPField], limits: CookieLimits = CookieLimits()) throws(CookieParseError)
        -> CookieList
    {
        var pairs: [CookiePair] = []
        for (index, field) in fields.enumerated() where HTTPSyntax.equalsIgnoringASCIICase(field.name, "cookie") {
            let value = field.value
            let utf8 = value.utf8
            var offset = 0
            var i = utf8.startIndex
            while i != utf8.endIndex {
                // One pair: from here to the next `;` (or the end).
                var start = i
                var startOffset = offset
                while start != utf8.endIndex, utf8[start] == 0x20 || utf8[start] == 0x09 {
                    start = utf8.index(after: start)
                    startOffset += 1
                }
                var end = start
                var endOffset = startOffset
                while end != utf8.endIndex, utf8[end] != 0x3B {
                    end = utf8.index(after: end)
                    endOffset += 1
                }
                // Trailing whitespace is not part of the pair.
                var last = end
                var lastOffset = endOffset
                while last != start {
                    let before = utf8.index(before: last)
                    guard utf8[before] == 0x20 || utf8[before] == 0x09 else { break }
                    last = before
                    lastOffset -= 1
                }
                if last != start {
                    guard pairs.count < limits.maxPairs else { throw .tooManyPairs }
                    pairs.append(pair(value[start..<last], fieldIndex: index, byteRange: startOffset..<lastOffset))
                }
                i = end
                offset = endOffset
                if i != utf8.endIndex {  // skip the `;`
                    i = utf8.index(after: i)
                    offset += 1
                }
            }
        }
        return CookieList(pairs: pairs)
    }

    init(pairs: [CookiePair]) { self.pairs = pairs }

    /// One pair's text (no surrounding whitespace, no `;`) split and judged.
    static func pair(_ text: Substring, fieldIndex: Int, byteRange: Range<Int>) -> CookiePair {
        guard let eq = text.utf8.firstIndex(of: 0x3D) else {
            return CookiePair(name: text[text.endIndex...], value: text, isWellFormed: false,
                              fieldIndex: fieldIndex, byteRange: byteRange)
        }
        let rawName = text[..<eq]
        let rawValue = text[text.utf8.index(after: eq)...]
        let name = trimmed(rawName)
        var value = trimmed(rawValue)
        var wellFormed = !rawName.isEmpty && rawName.utf8.allSatisfy(HTTPSyntax.isTokenChar)
        // The value: `*cookie-octet` or `DQUOTE *cookie-octet DQUOTE`, nothing before it.
        if rawValue.utf8.first == 0x20 || rawValue.utf8.first == 0x09 { wellFormed = false }
        var octets = value
        if value.utf8.first == 0x22 {
            if value.utf8.count >= 2, value.utf8.last == 0x22 {
                octets = value.dropFirst().dropLast()
                value = octets
            } else {
                wellFormed = false
            }
        }
        if !octets.utf8.allSatisfy(isCookieOctet) { wellFormed = false }
        return CookiePair(name: name, value: value, isWellFormed: wellFormed, fieldIndex: fieldIndex, byteRange: byteRange)
    }

    /// RFC 6265 §4.1.1 cookie-octet: `%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E` (US-ASCII
    /// without CTLs, whitespace, DQUOTE, comma, semicolon and backslash).
    public static func isCookieOctet(_ b: UInt8) -> Bool {
        b == 0x21 || (0x23...0x2B).contains(b) || (0x2D...0x3A).contains(b) || (0x3C...0x5B).contains(b)
            || (0x5D...0x7E).contains(b)
    }

    static func trimmed(_ s: Substring) -> Substring {
        var start = s.utf8.startIndex
        var end = s.utf8.endIndex
        while start != end, s.utf8[start] == 0x20 || s.utf8[start] == 0x09 { start = s.utf8.index(after: start) }
        while end != start {
            let before = s.utf8.index(before: end)
            guard s.utf8[before] == 0x20 || s.utf8[before] == 0x09 else { break }
            end = before
        }
        return s[start..<end]
    }

    /// Every pair named exactly `name` (case-sensitive, RFC 6265 §5.4), in order.
    public func pairs(named name: String) -> [CookiePair] {
        pairs.filter { $0.name.utf8.elementsEqual(name.utf8) }
    }

    /// The one cookie named `name` (case-sensitive): absent, found, duplicated or malformed.
    public func lookup(_ name: String, limits: CookieLimits = CookieLimits()) -> CookieLookup {
        let matches = pairs(named: name)
        guard let pair = matches.first else { return .absent }
        if matches.count > 1 { return .duplicated }
        if !pair.isWellFormed || pair.value.utf8.count > limits.maxValueBytes { return .malformed }
        return .found(pair)
    }

    /// `fields` with `pair` (from this list) taken out of its `Cookie` field: the pair and
    /// one separator next to it are cut, every other byte (other cookies, their order and
    /// spacing) is kept. A field left without any pair is removed.
    public func removing(_ pair: CookiePair, from fields: [HTTPField]) -> [HTTPField] {
        guard fields.indices.contains(pair.fieldIndex) else { return fields }
        let bytes = Array(fields[pair.fieldIndex].value.utf8)
        let others = pairs.filter { $0.fieldIndex == pair.fieldIndex && $0.byteRange != pair.byteRange }
        var out = fields
        if others.isEmpty {
            out.remove(at: pair.fieldIndex)
            return out
        }
        var cut = pair.byteRange
        if let previous = others.last(where: { $0.byteRange.upperBound <= pair.byteRange.lowerBound }) {
            // `prev; PAIR[...]`: from the end of the previous pair.
            cut = previous.byteRange.upperBound..<pair.byteRange.upperBound
        } else if let next = others.first(where: { $0.byteRange.lowerBound >= pair.byteRange.upperBound }) {
            // `PAIR; next`: up to the start of the next pair.
            cut = pair.byteRange.lowerBound..<next.byteRange.lowerBound
        }
        var kept = Array(bytes[..<cut.lowerBound])
        kept.append(contentsOf: bytes[cut.upperBound...])
        out[pair.fieldIndex].value = String(decoding: kept, as: UTF8.self)
        return out
    }
}
