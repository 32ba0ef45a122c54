/// A seeded SplitMix64 generator with its own range and choice helpers, so a seed gives the same case (or run of
/// faults) on every machine and Swift version.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that starts from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// SplitMix64's finaliser: a bijection on 64-bit values that scatters nearby inputs.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent generator for one part of a case (a session, the faults), from this seed and a label.
    public static func derived(_ seed: UInt64, _ label: UInt64) -> SplitMix64 {
        SplitMix64(seed: mix(seed ^ mix(label &+ 0x5851_F42D_4C95_7F2D)))
    }

    /// A uniform integer in `range` (modulo bias is irrelevant here).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound + Int(next() % span)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < p
    }

    /// One element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T {
        items[int(0...(items.count - 1))]
    }

    /// One element chosen by weight; weights must not all be zero.
    public mutating func weighted<T>(_ items: [(T, Int)]) -> T {
        let total = items.reduce(0) { $0 + max(0, $1.1) }
        var roll = int(0...(total - 1))
        for (item, weight) in items where weight > 0 {
            if roll < weight { return item }
            roll -= weight
        }
        return items.last!.0
    }

    /// The array in a random order.
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var result = items
        if result.count < 2 { return result }
        for i in stride(from: result.count - 1, to: 0, by: -1) {
            result.swapAt(i, int(0...i))
        }
        return result
    }

    /// `count` distinct elements of `items` (all of them when it has fewer), in random order.
    public mutating func sample<T>(_ items: [T], _ count: Int) -> [T] {
        Array(shuffled(items).prefix(count))
    }
}
