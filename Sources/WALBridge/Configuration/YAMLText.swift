/// Lines and columns in YAML text, counted as libyaml counts them (columns in Unicode scalars, from 1).
enum YAMLText {
    /// The line and column of the Character at `offset`, as Yams reports reader errors.
    static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int)? {
        guard let index = text.index(text.startIndex, offsetBy: offset, limitedBy: text.endIndex) else { return nil }
        var line = 1, column = 1
        var scalars = text[..<index].unicodeScalars.makeIterator()
        var previous: Unicode.Scalar?
        while let c = scalars.next() {
            if isLineBreak(c) {
                if !(c == "\n" && previous == "\r") { line += 1 }
                column = 1
            } else {
                column += 1
            }
            previous = c
        }
        return (line, column)
    }

    /// `text` with the Unicode scalar at a line and column replaced by `replacement`, nil when no scalar is there.
    static func replacing(
        line target: Int, column targetColumn: Int, with replacement: Unicode.Scalar, in text: String
    ) -> String? {
        var scalars = Array(text.unicodeScalars)
        var line = 1, column = 1
        for i in scalars.indices {
            if line == target && column == targetColumn {
                guard !isLineBreak(scalars[i]) else { return nil }
                scalars[i] = replacement
                var result = String.UnicodeScalarView()
                result.append(contentsOf: scalars)
                return String(result)
            }
            if isLineBreak(scalars[i]) {
                if !(scalars[i] == "\n" && i > 0 && scalars[i - 1] == "\r") { line += 1 }
                column = 1
            } else {
                column += 1
            }
        }
        return nil
    }

    /// libyaml's line breaks: LF, CR (CR LF counts once), NEL, LS and PS.
    private static func isLineBreak(_ c: Unicode.Scalar) -> Bool {
        c == "\n" || c == "\r" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}"
    }
}
