import PGOutput

/// Row-key values as a dictionary key, hashed over their raw bytes (much cheaper than hashing the enum values one
/// by one); the first value is held inline, so a single-column key allocates nothing.
struct RowKey: Hashable, Sendable {
    private let first: TupleValue
    private let rest: [TupleValue]

    /// The key of `values` made of the values at `positions` (NULL past the end).
    init(_ values: [TupleValue], at positions: [Int]) {
        func value(_ position: Int) -> TupleValue { position < values.count ? values[position] : .null }
        first = positions.first.map(value) ?? .null
        rest = positions.count > 1 ? positions.dropFirst().map(value) : []
    }

    func hash(into hasher: inout Hasher) {
        Self.combine(first, into: &hasher)
        for value in rest {
            Self.combine(value, into: &hasher)
        }
    }

    private static func combine(_ value: TupleValue, into hasher: inout Hasher) {
        switch value {
        case .null: hasher.combine(0 as UInt8)
        case .unchangedToast: hasher.combine(1 as UInt8)
        case .text(let bytes), .binary(let bytes):
            hasher.combine(bytes.count)
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}
