import Logging
import PGClient
import PGOutput
import Synchronization

extension TupleValue {
    /// The text of a text value; nil for NULL, an unchanged TOAST value or a binary value.
    var textString: String? {
        if case .text(let bytes) = self { String(decoding: bytes, as: UTF8.self) } else { nil }
    }

    /// The value as text for messages: NULL, the text, or a marker.
    var displayText: String {
        switch self {
        case .null: "NULL"
        case .unchangedToast: "<unchanged toast>"
        case .text(let bytes): String(decoding: bytes, as: UTF8.self)
        case .binary(let bytes): "\\x" + bytes.hexString
        }
    }
}
