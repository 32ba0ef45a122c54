import PGOutput

/// Encodes folded rows as COPY text-format lines for a staging table: seq, op, unchanged positions, values.
enum StagingCopy {
    /// The COPY data for `rows`, numbering them from `firstSeq`.
    static func encode(_ rows: [FoldedRow], firstSeq: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * 64)
        for (offset, row) in rows.enumerated() {
            out.append(contentsOf: String(firstSeq + offset).utf8)
            out.append(tab)
            out.append(row.operation == .upsert ? UInt8(ascii: "U") : UInt8(ascii: "D"))
            out.append(tab)
            let unchanged = row.operation == .upsert ? row.unchanged : []
            if unchanged.isEmpty {
                out.append(contentsOf: nullMarker)
            } else {
                out.append(contentsOf: "{\(unchanged.map(String.init).joined(separator: ","))}".utf8)
            }
            for value in row.values {
                out.append(tab)
                switch value {
                case .text(let bytes): appendEscaped(bytes, to: &out)
                case .null, .unchangedToast, .binary: out.append(contentsOf: nullMarker)
                }
            }
            out.append(newline)
        }
        return out
    }

    private static let tab = UInt8(ascii: "\t")
    private static let newline = UInt8(ascii: "\n")
    private static let nullMarker: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "N")]

    /// Appends a value with COPY text escapes for backslash, tab, newline and carriage return.
    private static func appendEscaped(_ bytes: [UInt8], to out: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): out.append(byte); out.append(byte)
            case tab: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case newline: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            default: out.append(byte)
            }
        }
    }
}
