// Decoder throughput benchmark: decodes a capture of real pgoutput traffic (written by bench/decoder.sh)
// from memory, envelope and message, on one core, and reports the best of several passes.
//
//   decoder-bench FILE [--passes N] [--postgres MESSAGES_PER_SECOND]
//
// FILE is PostgreSQL's binary COPY format with one bytea column per row, each row one complete
// XLogData ('w') CopyData payload, as a walsender would send it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PGOutput

/// Prints a message to standard error and exits with status 1.
func fail(_ message: String) -> Never {
    let text = Array("decoder-bench: \(message)\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

/// Reads a whole file.
func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

/// Splits a binary COPY of one bytea column into its values.
func copyRows(_ bytes: [UInt8]) -> [[UInt8]] {
    let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
    guard bytes.count >= 19, Array(bytes[0..<11]) == signature else { fail("not a binary COPY file") }
    func int(_ at: Int, _ size: Int) -> Int {
        guard at + size <= bytes.count else { fail("truncated COPY file") }
        var value = 0
        for byte in bytes[at..<at + size] { value = value << 8 | Int(byte) }
        return value
    }
    var offset = 19 + int(15, 4)
    var rows: [[UInt8]] = []
    while true {
        let fields = int(offset, 2)
        if fields == 0xFFFF { break }
        guard fields == 1 else { fail("expected one column per row, got \(fields)") }
        let length = int(offset + 2, 4)
        guard offset + 6 + length <= bytes.count else { fail("truncated COPY row") }
        rows.append(Array(bytes[offset + 6..<offset + 6 + length]))
        offset += 6 + length
    }
    return rows
}

/// What one pass saw; the sums make the optimizer keep every decoded value.
struct Tally: Equatable {
    var messages = 0
    var changes = 0
    var valueBytes = 0
    var nulls = 0
    var xids: UInt64 = 0

    mutating func add(_ values: [TupleValue]) {
        for value in values {
            switch value {
            case .text(let bytes), .binary(let bytes): valueBytes += bytes.count
            case .null, .unchangedToast: nulls += 1
            }
        }
    }
}

/// Decodes every frame once.
func decodeAll(_ frames: [[UInt8]]) -> Tally {
    var decoder = PGOutputDecoder()
    var tally = Tally()
    do {
        for frame in frames {
            guard case .xLogData(let data) = try ReplicationMessage.decode(frame) else { continue }
            tally.messages += 1
            switch try decoder.decode(data.data) {
            case .insert(let insert):
                tally.changes += 1
                tally.add(insert.new)
            case .update(let update):
                tally.changes += 1
                tally.add(update.new)
                if let old = update.old { tally.add(old.values) }
            case .delete(let delete):
                tally.changes += 1
                tally.add(delete.old.values)
            case .begin(let begin):
                tally.xids &+= UInt64(begin.xid)
            default:
                break
            }
        }
    } catch {
        fail("\(error)")
    }
    return tally
}

/// Seconds in a Duration.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// A number with `digits` decimals and thousands separators in the integer part.
func format(_ value: Double, _ digits: Int = 0) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    var whole = String(scaled / Int(scale))
    var grouped = ""
    while whole.count > 3 {
        grouped = "," + whole.suffix(3) + grouped
        whole.removeLast(3)
    }
    grouped = whole + grouped
    guard digits > 0 else { return grouped }
    let fraction = String(scaled % Int(scale))
    return grouped + "." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// The peak resident set size in kB from /proc/self/status, if there is one.
func peakRSSKilobytes() -> Int? {
    guard let file = fopen("/proc/self/status", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("VmHWM:") {
            return Int(text.dropFirst(6).filter { $0.isNumber })
        }
    }
    return nil
}

var arguments = CommandLine.arguments.dropFirst()
guard let path = arguments.popFirst() else {
    fail("usage: decoder-bench FILE [--passes N] [--postgres MESSAGES_PER_SECOND]")
}
var passes = 5
var postgresRate: Double?
while let option = arguments.popFirst() {
    switch option {
    case "--passes": passes = arguments.popFirst().flatMap { Int($0) } ?? passes
    case "--postgres": postgresRate = arguments.popFirst().flatMap { Double($0) }
    default: fail("unknown option \(option)")
    }
}

let frames = copyRows(readFile(path))
let frameBytes = frames.reduce(0) { $0 + $1.count }
let megabytes = Double(frameBytes) / 1e6

let expected = decodeAll(frames)  // warm-up
var best = Duration.seconds(1_000_000)
for _ in 0..<passes {
    var tally = Tally()
    let elapsed = ContinuousClock().measure { tally = decodeAll(frames) }
    guard tally == expected else { fail("passes disagree") }
    best = min(best, elapsed)
}
let rate = Double(expected.messages) / seconds(best)

print(
    "messages:            \(format(Double(expected.messages))) (\(format(Double(expected.changes))) "
        + "inserts/updates/deletes)")
print("data:                \(format(megabytes, 1)) MB of XLogData frames")
print(
    "decoded values:      \(format(Double(expected.valueBytes))) value bytes, \(expected.nulls) "
        + "NULL/unchanged (checksum \(expected.xids))")
print(
    "decoder, one core:   \(format(rate)) messages/s, \(format(megabytes / seconds(best), 1)) MB/s (best of \(passes) "
        + "passes, \(format(seconds(best) * 1000, 1)) ms)")
if let postgresRate {
    print("PostgreSQL pgoutput: \(format(postgresRate)) messages/s")
    print("decoder/PostgreSQL:  \(format(rate / postgresRate, 1))x")
}
if let peak = peakRSSKilobytes() {
    print("peak RSS (VmHWM):    \(format(Double(peak) / 1024, 1)) MiB")
}
