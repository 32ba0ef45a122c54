import PGOutput

/// Encodes folded rows as COPY text-format lines for a staging table: seq, op, unchanged positions, values.
enum StagingCopy {
    /// The COPY data for the rows at `indices`, each numbered by its index, with its `StagingOp`.
    static func encode(_ rows: [FoldedRow], at indices: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(indices.count * 16 + indices.reduce(0) { total, index in
                    total
                        + rows[index].values.reduce(0) {
                            if case .text(let bytes) = $1 { $0 + bytes.count + 1 } else { $0 + 3 }
                        }
        })
        for seq in indices {
            let row = rows[seq]
            out.append(contentsOf: String(seq).utf8)
            out.append(tab)
            out.append(row.stagingOp.byte)
            out.append(tab)
            let unchanged = (row.operation == .upsert || row.deletedAfterWrite) && row.hasUnchanged ? row.unchanged : []
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

    /// COPY text lines holding, for each row, the values at `positions` (a target's columns copied straight from the
    /// source).
    static func encode(_ rows: [[TupleValue]], columns positions: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * positions.count * 12)
        for row in rows {
            for (index, position) in positions.enumerated() {
                if index > 0 { out.append(tab) }
                if case .text(let bytes) = row[position] {
                    appendEscaped(bytes, to: &out)
                } else {
                    out.append(contentsOf: nullMarker)
                }
            }
            out.append(newline)
        }
        return out
    }

    private static let tab = UInt8(ascii: "\t")
    private static let newline = UInt8(ascii: "\n")
    private static let nullMarker: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "N")]

    /// Appends a value with COPY text escapes for backslash, tab, newline and carriage return
    /// (a value without any is copied whole).
    private static func appendEscaped(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        let plain = bytes.withUnsafeBufferPointer { buffer in
            !buffer.contains { $0 == UInt8(ascii: "\\") || $0 == tab || $0 == newline || $0 == UInt8(ascii: "\r") }
        }
        if plain {
            out.append(contentsOf: bytes)
            return
        }
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
