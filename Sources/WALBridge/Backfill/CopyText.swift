import PGOutput

/// Reads COPY text-format output (`COPY … TO STDOUT`) into rows of tuple values.
enum CopyText {
    /// The rows in `data`, each with `columns` values; a value without escapes is a slice of `data`.
    static func rows(_ data: [UInt8], columns: Int) throws -> [[TupleValue]] {
        var rows: [[TupleValue]] = []
        var row: [TupleValue] = []
        row.reserveCapacity(columns)
        var start = 0
        var escaped = false
        var index = 0
        while index < data.count {
            let byte = data[index]
            if byte == backslash {
                escaped = true
                index += 2
                continue
            }
            if byte == tab || byte == newline {
                row.append(value(data, start..<index, escaped: escaped))
                escaped = false
                start = index + 1
                if byte == newline {
                    guard row.count == columns else {
                        throw BridgeError.sourceNotReady(
                            "source: COPY sent a row with \(row.count) values, \(columns) expected")
                    }
                    rows.append(row)
                    row.removeAll(keepingCapacity: true)
                }
            }
            index += 1
        }
        guard start == data.count else {
            throw BridgeError.sourceNotReady("source: COPY output ends in the middle of a row")
        }
        return rows
    }

    private static let backslash = UInt8(ascii: "\\")
    private static let tab = UInt8(ascii: "\t")
    private static let newline = UInt8(ascii: "\n")

    /// One field: `\N` is NULL; escapes are undone.
    private static func value(_ data: [UInt8], _ range: Range<Int>, escaped: Bool) -> TupleValue {
        guard escaped else { return .text(data[range]) }
        if range.count == 2 && data[range.lowerBound + 1] == UInt8(ascii: "N") { return .null }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = data[index]
            guard byte == backslash, index + 1 < range.upperBound else {
                out.append(byte)
                index += 1
                continue
            }
            let next = data[index + 1]
            switch next {
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "v"): out.append(11)
            default: out.append(next)
            }
            index += 2
        }
        return .text(out[...])
    }
}
