/// A WAL position.
public struct LSN:
    RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// The position as one 64-bit number.
    public var rawValue: UInt64

    /// Wraps a raw 64-bit position.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Wraps a raw 64-bit position.
    public init(_ raw: UInt64) {
        self.rawValue = raw
    }

    /// Parses PostgreSQL's text form, two hexadecimal halves of 1 to 8 digits: "16/B374D848".
    public init?(_ description: String) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        var sawSlash = false
        for byte in description.utf8 {
            if byte == UInt8(ascii: "/") {
                guard !sawSlash, digits > 0 else { return nil }
                sawSlash = true
                digits = 0
                continue
            }
            guard let nibble = LSN.hexValue(byte), digits < 8 else { return nil }
            digits += 1
            if sawSlash {
                low = low << 4 | nibble
            } else {
                high = high << 4 | nibble
            }
        }
        guard sawSlash, digits > 0 else { return nil }
        self.rawValue = high << 32 | low
    }

    /// PostgreSQL's text form in uppercase hexadecimal: "16/B374D848", "0/0".
    public var description: String {
        String(rawValue >> 32, radix: 16, uppercase: true) + "/"
            + String(rawValue & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    /// The position 0/0 (PostgreSQL's InvalidXLogRecPtr).
    public static let zero = LSN(0)

    /// Orders positions by their raw value.
    public static func < (lhs: LSN, rhs: LSN) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// Advances a position by a number of bytes, stopping at the largest position.
    public static func + (lhs: LSN, rhs: UInt64) -> LSN {
        let (sum, overflow) = lhs.rawValue.addingReportingOverflow(rhs)
        return LSN(overflow ? UInt64.max : sum)
    }

    /// The value of one ASCII hexadecimal digit, or nil.
    private static func hexValue(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt64(byte - UInt8(ascii: "A") + 10)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(byte - UInt8(ascii: "a") + 10)
        default: nil
        }
    }
}
