import Foundation
import PGOutput
import Testing

/// One captured message: the slot's LSN and xid columns, the raw bytes and what they decode to.
struct FixtureMessage {
    var lsn: LSN
    var xid: UInt32
    var bytes: [UInt8]
    var message: PGOutputMessage
    /// The decoder state just before this message, for robustness tests.
    var decoderBefore: PGOutputDecoder
}

enum FixtureError: Error {
    case badLine(String)
}

/// The directory holding the captured fixtures (see scripts/capture-fixtures.sh).
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Every fixture file name.
let fixtureNames = [
    "binary.txt", "dml.txt", "identity-full.txt", "identity-index.txt", "messages.txt", "origin.txt",
    "stream-prepare.txt", "streaming.txt", "toast.txt", "truncate.txt", "two-phase.txt", "types.txt",
]

/// Decodes a fixture file's messages in order with one decoder.
func loadFixture(_ name: String) throws -> [FixtureMessage] {
    let text = try String(contentsOf: fixturesDirectory.appendingPathComponent(name), encoding: .utf8)
    var decoder = PGOutputDecoder()
    var messages: [FixtureMessage] = []
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count == 3, let lsn = LSN(String(fields[0])), let xid = UInt32(fields[1]),
            let bytes = hexBytes(fields[2])
        else { throw FixtureError.badLine(String(line)) }
        let before = decoder
        let message = try decoder.decode(bytes)
        messages.append(FixtureMessage(lsn: lsn, xid: xid, bytes: bytes, message: message, decoderBefore: before))
    }
    return messages
}

/// Parses lowercase or uppercase hexadecimal.
func hexBytes(_ hex: Substring) -> [UInt8]? {
    let digits = Array(hex.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
            return nil
        }
        bytes.append(byte)
    }
    return bytes
}

/// Builds wire bytes for hand-made messages.
struct Wire {
    var bytes: [UInt8] = []

    /// Starts with the message type letter ("" for none).
    init(_ type: String) {
        bytes = Array(type.utf8)
    }

    func u8(_ value: UInt8) -> Wire { var copy = self; copy.bytes.append(value); return copy }
    func u16(_ value: UInt16) -> Wire { append(value.bigEndian) }
    func i32(_ value: Int32) -> Wire { append(value.bigEndian) }
    func u32(_ value: UInt32) -> Wire { append(value.bigEndian) }
    func u64(_ value: UInt64) -> Wire { append(value.bigEndian) }
    func i64(_ value: Int64) -> Wire { append(value.bigEndian) }
    func raw(_ values: [UInt8]) -> Wire { var copy = self; copy.bytes += values; return copy }
    func string(_ value: String) -> Wire { raw(Array(value.utf8) + [0]) }
    func text(_ value: String) -> Wire { u8(UInt8(ascii: "t")).i32(Int32(value.utf8.count)).raw(Array(value.utf8)) }

    private func append<T: FixedWidthInteger>(_ value: T) -> Wire {
        var copy = self
        withUnsafeBytes(of: value) { copy.bytes.append(contentsOf: $0) }
        return copy
    }
}

extension TupleValue {
    /// A text value from a Swift string.
    static func string(_ value: String) -> TupleValue { .text(ArraySlice(value.utf8)) }
}

/// Optional accessors so tests can `#require` a message kind.
extension PGOutputMessage {
    var begin: Begin? { if case .begin(let value) = self { value } else { nil } }
    var commit: Commit? { if case .commit(let value) = self { value } else { nil } }
    var origin: Origin? { if case .origin(let value) = self { value } else { nil } }
    var relation: Relation? { if case .relation(let value) = self { value } else { nil } }
    var type: TypeInfo? { if case .type(let value) = self { value } else { nil } }
    var insert: Insert? { if case .insert(let value) = self { value } else { nil } }
    var update: Update? { if case .update(let value) = self { value } else { nil } }
    var delete: Delete? { if case .delete(let value) = self { value } else { nil } }
    var truncate: Truncate? { if case .truncate(let value) = self { value } else { nil } }
    var logicalMessage: LogicalMessage? { if case .message(let value) = self { value } else { nil } }
    var streamStart: StreamStart? { if case .streamStart(let value) = self { value } else { nil } }
    var isStreamStop: Bool { if case .streamStop = self { true } else { false } }
    var streamCommit: StreamCommit? { if case .streamCommit(let value) = self { value } else { nil } }
    var streamAbort: StreamAbort? { if case .streamAbort(let value) = self { value } else { nil } }
    var beginPrepare: BeginPrepare? { if case .beginPrepare(let value) = self { value } else { nil } }
    var prepare: Prepare? { if case .prepare(let value) = self { value } else { nil } }
    var commitPrepared: CommitPrepared? { if case .commitPrepared(let value) = self { value } else { nil } }
    var rollbackPrepared: RollbackPrepared? { if case .rollbackPrepared(let value) = self { value } else { nil } }
    var streamPrepare: Prepare? { if case .streamPrepare(let value) = self { value } else { nil } }

    /// The xid prefix of a change message, if it is one.
    var changeXID: UInt32?? {
        switch self {
        case .relation(let value): value.xid
        case .type(let value): value.xid
        case .insert(let value): value.xid
        case .update(let value): value.xid
        case .delete(let value): value.xid
        case .truncate(let value): value.xid
        case .message(let value): value.xid
        default: nil
        }
    }
}

/// A timestamp from UTC calendar fields, for comparing with values the workloads set.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) -> PGTimestamp {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let date = calendar.date(
        from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
    return PGTimestamp(unixMicroseconds: Int64(date.timeIntervalSince1970) * 1_000_000)
}

/// A plausible capture time: after 2020 and before 2100.
func isPlausible(_ time: PGTimestamp) -> Bool {
    time > utc(2020, 1, 1, 0, 0, 0) && time < utc(2100, 1, 1, 0, 0, 0)
}
