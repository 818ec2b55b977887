import TrackerCore

/// A deterministic random source (the core's SplitMix64) so a failing randomized test fails the same way again.
public typealias SeededGenerator = SplitMix64

/// A generator that replays fixed values, for exact expectations of "random" choices.
public struct ScriptedGenerator: RandomNumberGenerator {
    private var values: [UInt64]
    private var index = 0

    public init(_ values: [UInt64]) {
        self.values = values
    }

    public mutating func next() -> UInt64 {
        defer { index += 1 }
        return values[index % values.count]
    }
}
