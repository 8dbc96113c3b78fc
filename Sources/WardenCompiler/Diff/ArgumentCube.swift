/// A set of syscall argument vectors described by fixed bits: argument `i` is in the set
/// when `arg[i] & mask[i] == value[i]`; bits outside the masks are free.
///
/// Every term of `ConditionAlgebra` (the compiler's conjunction of masked-equals, after
/// `ConditionAlgebra.positive` turned orderings, `!=` and 32-bit tests into masked-equals
/// on bit prefixes) is exactly one cube, so a rule's condition is a union of cubes.
struct ArgumentCube: Hashable, Sendable {
    static let argumentCount = 6
    var mask: [UInt64]
    var value: [UInt64]

    /// Every argument vector.
    static let everything = ArgumentCube(mask: Array(repeating: 0, count: argumentCount),
                                         value: Array(repeating: 0, count: argumentCount))

    init(mask: [UInt64], value: [UInt64]) {
        self.mask = mask
        self.value = value
    }

    /// The cube of one algebra term; nil when the term can never hold. Throws
    /// `UnsupportedComparison` for a comparison that is not an equality or masked-equal
    /// (the algebra never leaves one in a term built from `positive`).
    init?(term: Term) throws(ArgumentCube.UnsupportedComparison) {
        var cube = ArgumentCube.everything
        for c in term {
            guard (0..<Self.argumentCount).contains(c.arg) else { throw UnsupportedComparison(comparison: c) }
            let (m, v): (UInt64, UInt64)
            switch c.op {
            case .eq: (m, v) = (.max, c.datum)
            case .maskedEq: (m, v) = (c.mask, c.datum & c.mask)
            default: throw UnsupportedComparison(comparison: c)
            }
            guard cube.fix(c.arg, mask: m, value: v) else { return nil }
        }
        self = cube
    }

    struct UnsupportedComparison: Error {
        var comparison: Comparison
    }

    /// Adds `arg & mask == value`; false when it contradicts a fixed bit.
    mutating func fix(_ arg: Int, mask m: UInt64, value v: UInt64) -> Bool {
        if (mask[arg] & m) & (value[arg] ^ v) != 0 { return false }
        mask[arg] |= m
        value[arg] |= v & m
        return true
    }

    /// The vectors in both cubes; nil when none.
    func intersection(_ other: ArgumentCube) -> ArgumentCube? {
        var out = self
        for i in 0..<Self.argumentCount where !out.fix(i, mask: other.mask[i], value: other.value[i]) { return nil }
        return out
    }

    /// Whether the cubes share a vector.
    func meets(_ other: ArgumentCube) -> Bool {
        for i in 0..<Self.argumentCount {
            let common: UInt64 = mask[i] & other.mask[i]
            if common & (value[i] ^ other.value[i]) != 0 { return false }
        }
        return true
    }

    /// Whether every vector of `self` is in `other` (other fixes only bits self fixes, alike).
    func isWithin(_ other: ArgumentCube) -> Bool {
        for i in 0..<Self.argumentCount {
            let outer: UInt64 = other.mask[i]
            if outer & ~mask[i] != 0 { return false }
            if (value[i] ^ other.value[i]) & outer != 0 { return false }
        }
        return true
    }

    func contains(_ args: [UInt64]) -> Bool {
        for i in 0..<Self.argumentCount {
            let x: UInt64 = i < args.count ? args[i] : 0
            if x & mask[i] != value[i] { return false }
        }
        return true
    }

    /// The componentwise smallest vector of the cube (every free bit 0).
    var smallest: [UInt64] { value }

    /// `self` minus `hole` as disjoint cubes (hole must meet self and not contain it): for
    /// each bit the hole fixes and self leaves free, the vectors that agree with the hole on
    /// the earlier such bits and differ on this one. Bits go from the most significant down,
    /// so a range's prefix cubes (`arg0 > 2` is `bit 31`, `bits 31..30 = 01`, …) each hold a
    /// whole piece: lowest-first splitting would cut every one of them again, exponentially.
    func subtracting(_ hole: ArgumentCube) -> [ArgumentCube] {
        var pieces: [ArgumentCube] = []
        var prefix = self
        for i in 0..<Self.argumentCount {
            var open = hole.mask[i] & ~mask[i]
            while open != 0 {
                let bit: UInt64 = 1 << (63 - UInt64(open.leadingZeroBitCount))
                open &= ~bit
                var piece = prefix
                _ = piece.fix(i, mask: bit, value: ~hole.value[i] & bit)
                pieces.append(piece)
                _ = prefix.fix(i, mask: bit, value: hole.value[i] & bit)
            }
        }
        return pieces
    }
}

/// Orders argument vectors from simplest: fewest non-zero arguments, then lexicographically.
/// Monotone: a vector componentwise below another never sorts after it, so the smallest
/// vectors of nested cubes never decrease.
func simplerArguments(_ l: [UInt64], _ r: [UInt64]) -> Bool {
    let ln = l.filter { $0 != 0 }.count, rn = r.filter { $0 != 0 }.count
    if ln != rn { return ln < rn }
    return l.lexicographicallyPrecedes(r)
}
