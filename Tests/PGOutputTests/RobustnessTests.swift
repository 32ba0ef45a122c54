import PGOutput
import Testing

/// Truncated and randomly corrupted input must decode or throw DecodeError, never crash.
@Suite struct RobustnessTests {
    /// Every captured message, with the decoder state it was captured in.
    let corpus: [FixtureMessage]

    init() throws {
        corpus = try fixtureNames.flatMap { try loadFixture($0) }
    }

    @Test func everyTruncationOfEveryFixtureMessageThrows() {
        var checked = 0
        for entry in corpus {
            for length in 0..<entry.bytes.count {
                var decoder = entry.decoderBefore
                do {
                    let message = try decoder.decode(entry.bytes[0..<length])
                    Issue.record("prefix \(length) of \(entry.bytes.count) decoded to \(message)")
                } catch {
                    #expect(error.offset >= 0 && error.offset <= length)
                    #expect(decoder.inStreamBlock == entry.decoderBefore.inStreamBlock)
                    if length > 0 {
                        #expect(error.message != "message", "\(error)")
                    }
                }
                checked += 1
            }
        }
        #expect(checked > 3_000)
    }

    @Test func randomlyMutatedMessagesDecodeOrThrow() {
        var random = XorShift(seed: 0x5EED_CAFE_F00D_BEEF)
        var decoded = 0
        var failed = 0
        for _ in 0..<100_000 {
            let entry = corpus[random.below(corpus.count)]
            var bytes = entry.bytes
            for _ in 0...random.below(3) {
                mutate(&bytes, &random)
            }
            var decoder = entry.decoderBefore
            if random.below(8) == 0 {
                // Also try the other stream state.
                decoder = PGOutputDecoder()
                if !entry.decoderBefore.inStreamBlock {
                    _ = try? decoder.decode([0x53, 0, 0, 0, 1, 1])
                }
            }
            do {
                _ = try decoder.decode(bytes)
                decoded += 1
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
                failed += 1
            }
        }
        #expect(decoded + failed == 100_000)
        #expect(decoded > 1_000 && failed > 10_000, "decoded \(decoded), failed \(failed)")
    }

    @Test func randomlyMutatedEnvelopesDecodeOrThrow() {
        var random = XorShift(seed: 42)
        for index in 0..<20_000 {
            let entry = corpus[index % corpus.count]
            var frame: [UInt8] = [UInt8(ascii: "w")] + Array(repeating: 0, count: 24) + entry.bytes
            if index % 2 == 1 {
                frame = [UInt8(ascii: "k")] + Array(repeating: 0, count: 16) + [1]
            }
            mutate(&frame, &random)
            do {
                if case .xLogData(let data) = try ReplicationMessage.decode(frame) {
                    var decoder = PGOutputDecoder()
                    _ = try? decoder.decode(data.data)
                }
            } catch {
                #expect(error.offset >= 0 && error.offset <= frame.count)
            }
        }
    }

    /// Applies one random corruption.
    func mutate(_ bytes: inout [UInt8], _ random: inout XorShift) {
        let position = bytes.isEmpty ? 0 : random.below(bytes.count)
        switch random.below(8) {
        case 0 where !bytes.isEmpty:
            bytes[position] ^= UInt8(1) << UInt8(random.below(8))
        case 1 where !bytes.isEmpty:
            bytes[position] = UInt8(truncatingIfNeeded: random.next())
        case 2:
            bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: random.below(bytes.count + 1))
        case 3 where !bytes.isEmpty:
            bytes.remove(at: position)
        case 4:
            bytes.removeLast(random.below(bytes.count + 1))
        case 5:
            // Overwrite what may be a count or a length with a huge or negative value.
            let huge: [[UInt8]] = [[0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF],
                                   [0, 0, 0x7F, 0xFF], [0xFF, 0xFF, 0xFF, 0xFE]]
            let value = huge[random.below(huge.count)]
            for (offset, byte) in value.enumerated() where position + offset < bytes.count {
                bytes[position + offset] = byte
            }
        case 6:
            let typeLetters = Array("BCORYIUDTMSEcAbPKrpwkZ".utf8)
            if bytes.isEmpty { bytes = [0] }
            bytes[0] = typeLetters[random.below(typeLetters.count)]
        default:
            for _ in 0..<random.below(6) {
                bytes.append(UInt8(truncatingIfNeeded: random.next()))
            }
        }
    }
}

/// A small deterministic PRNG (xorshift64*).
struct XorShift {
    var state: UInt64

    init(seed: UInt64) {
        state = seed == 0 ? 1 : seed
    }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    /// A value in 0..<bound (0 when bound is 0).
    mutating func below(_ bound: Int) -> Int {
        bound <= 0 ? 0 : Int(next() % UInt64(bound))
    }
}
