// Edits YAMLComposer makes to the text, and how positions map back through them.

/// Text `YAMLComposer.compose` inserted into the YAML before composing it: `length` Unicode
/// scalars at `line`:`column` (1-based, as Yams marks count) of the text at that step.
struct TextInsertion {
    var line: Int
    var column: Int
    var length: Int

    /// A position in the edited text mapped back to the text before `insertions` (undone
    /// last first). Insertions never add lines, so only columns after one on its line move.
    static func original(line: Int, column: Int, after insertions: [TextInsertion]) -> (line: Int, column: Int) {
        var column = column
        for i in insertions.reversed() where i.line == line && column >= i.column + i.length {
            column -= i.length
        }
        return (line, column)
    }

    /// `text` with `marker` inserted at the start of the key `key` that Yams marked at
    /// `line`:`column` (inside its quotes when quoted); nil unless the text there is the key
    /// as written, plainly or in quotes.
    static func insert(_ marker: String, before key: String, line: Int, column: Int, in text: String)
        -> (String, TextInsertion)? {
        var scalars = Array(text.unicodeScalars)
        var l = 1, c = 1, i = 0
        while i < scalars.count, !(l == line && c == column) {
            let s = scalars[i]
            if s == "\n" || s == "\r" {
                if s == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
                l += 1
                c = 1
            } else {
                c += 1
            }
            i += 1
        }
        guard l == line, c == column, i < scalars.count else { return nil }
        var at = i, atColumn = column
        if scalars[i] == "\"" || scalars[i] == "'" {
            at += 1
            atColumn += 1
        }
        let keyScalars = Array(key.unicodeScalars)
        guard !keyScalars.isEmpty, at + keyScalars.count <= scalars.count,
              Array(scalars[at..<(at + keyScalars.count)]) == keyScalars
        else { return nil }
        let markerScalars = Array(marker.unicodeScalars)
        scalars.insert(contentsOf: markerScalars, at: at)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return (String(view), TextInsertion(line: line, column: atColumn, length: markerScalars.count))
    }
}
