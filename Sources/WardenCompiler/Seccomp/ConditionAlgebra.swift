/// Boolean algebra over libseccomp comparisons, used to compile overlapping allow and deny
/// rules into disjoint regions (deny wins by construction, not by libseccomp's rule merging).
///
/// A `Term` is a conjunction of comparisons with at most one comparison per argument (the
/// most libseccomp 2.5.4 accepts in one rule); a `DNF` is a disjunction of terms.
/// Comparisons on 32-bit arguments are always masked-equals within the low 32 bits, so
/// garbage in the upper half can neither match nor avoid a comparison. Ordering and `!=` on
/// 32-bit arguments become disjunctions of masked-equals on bit prefixes.
struct Comparison: Hashable, Comparable, Sendable {
    enum Op: Int, Sendable { case ne = 1, lt, le, eq, ge, gt, maskedEq }
    var arg: Int
    var op: Op
    /// The compared value (for `.maskedEq`, the value after masking).
    var datum: UInt64
    /// For `.maskedEq` only.
    var mask: UInt64

    static func masked(_ arg: Int, _ mask: UInt64, _ value: UInt64) -> Comparison {
        Comparison(arg: arg, op: .maskedEq, datum: value & mask, mask: mask)
    }

    static func < (l: Comparison, r: Comparison) -> Bool {
        (l.arg, l.op.rawValue, l.datum, l.mask) < (r.arg, r.op.rawValue, r.datum, r.mask)
    }

    /// Whether the comparison holds for a raw 64-bit argument value.
    func holds(_ x: UInt64) -> Bool {
        switch op {
        case .ne: return x != datum
        case .lt: return x < datum
        case .le: return x <= datum
        case .eq: return x == datum
        case .ge: return x >= datum
        case .gt: return x > datum
        case .maskedEq: return x & mask == datum
        }
    }
}

typealias Term = [Comparison]
typealias DNF = [Term]

enum ConditionAlgebra {
    static let always: DNF = [[]]
    static let never: DNF = []

    // MARK: Literals

    /// The condition as a DNF of comparisons.
    static func positive(_ c: ArgCondition) -> DNF {
        let a = c.arg
        if c.is32Bit {
            let v = SeccompValidation.normalized32(c.value) ?? c.value & 0xffff_ffff
            switch c.op {
            case .eq: return [[.masked(a, 0xffff_ffff, v)]]
            case .ne: return bitsDiffer(a, mask: 0xffff_ffff, from: v)
            case .lt: return less(a, v, width: 32)
            case .le: return v == 0xffff_ffff ? always : less(a, v + 1, width: 32)
            case .gt: return greater(a, v, width: 32)
            case .ge: return v == 0 ? always : greater(a, v - 1, width: 32)
            case .maskedEq:
                let m = c.mask & 0xffff_ffff
                return m == 0 ? always : [[.masked(a, m, v)]]
            }
        }
        // 64-bit arguments: only equality and masked-equal reach libseccomp. libseccomp 2.5.4
        // miscompiles overlapping ordering comparisons on one argument (two rules
        // `a2 <= 0x5411` and `a2 <= 0xfffffffffffffffe` with one action lose the second), so
        // orderings and `!=` are expanded into masked-equals on bit prefixes, as for 32 bits.
        let v = c.value
        switch c.op {
        case .eq: return [[Comparison(arg: a, op: .eq, datum: v, mask: 0)]]
        case .ne: return bitsDiffer(a, mask: .max, from: v)
        case .lt: return less(a, v, width: 64)
        case .le: return v == .max ? always : less(a, v + 1, width: 64)
        case .gt: return greater(a, v, width: 64)
        case .ge: return v == 0 ? always : greater(a, v - 1, width: 64)
        case .maskedEq: return c.mask == 0 ? always : [[.masked(a, c.mask, v)]]
        }
    }

    /// The negation of the condition as a DNF of comparisons.
    static func negative(_ c: ArgCondition) -> DNF {
        var n = c
        switch c.op {
        case .eq: n.op = .ne
        case .ne: n.op = .eq
        case .lt: n.op = .ge
        case .le: n.op = .gt
        case .gt: n.op = .le
        case .ge: n.op = .lt
        case .maskedEq:
            let m = c.is32Bit ? c.mask & 0xffff_ffff : c.mask
            let v = c.is32Bit ? (SeccompValidation.normalized32(c.value) ?? 0) : c.value
            return bitsDiffer(c.arg, mask: m, from: v)
        }
        return positive(n)
    }

    /// `x & mask != value`: some bit of `mask` differs, one masked-equal per bit.
    static func bitsDiffer(_ a: Int, mask: UInt64, from value: UInt64) -> DNF {
        (0..<64).compactMap { i -> Term? in
            let bit = UInt64(1) << UInt64(i)
            guard mask & bit != 0 else { return nil }
            return [.masked(a, bit, ~value & bit)]
        }
    }

    /// Bits `width-1 ... i` set.
    static func high(_ width: Int, from i: Int) -> UInt64 {
        guard i < width else { return 0 }
        let full: UInt64 = width == 64 ? .max : (UInt64(1) << UInt64(width)) - 1
        return (full >> UInt64(i)) << UInt64(i)
    }

    /// `x < v` over the low `width` bits: x agrees with v above bit i, v has 1 at bit i and x has 0.
    static func less(_ a: Int, _ v: UInt64, width: Int) -> DNF {
        (0..<width).compactMap { i -> Term? in
            let bit = UInt64(1) << UInt64(i)
            guard v & bit != 0 else { return nil }
            return [.masked(a, high(width, from: i), v & high(width, from: i + 1))]
        }
    }

    /// `x > v` over the low `width` bits: x agrees with v above bit i, v has 0 at bit i and x has 1.
    static func greater(_ a: Int, _ v: UInt64, width: Int) -> DNF {
        (0..<width).compactMap { i -> Term? in
            let bit = UInt64(1) << UInt64(i)
            guard v & bit == 0 else { return nil }
            return [.masked(a, high(width, from: i), (v & high(width, from: i + 1)) | bit)]
        }
    }

    // MARK: Combination

    static func or(_ a: DNF, _ b: DNF) -> DNF { a + b }

    /// The conjunction of two DNFs, simplified; throws when it grows past `limit` terms.
    static func and(_ a: DNF, _ b: DNF, limit: Int, syscall: String) throws(SeccompCompileError) -> DNF {
        var out: DNF = []
        for x in a {
            for y in b {
                out.append(contentsOf: simplify(x + y))
                if out.count > limit * 4 { throw .tooComplex(syscall: syscall, rules: a.count * b.count, limit: limit) }
            }
        }
        out = reduce(out)
        if out.count > limit { throw .tooComplex(syscall: syscall, rules: out.count, limit: limit) }
        return out
    }

    /// The conjunction of several DNFs.
    static func and(_ parts: [DNF], limit: Int, syscall: String) throws(SeccompCompileError) -> DNF {
        var acc = always
        for p in parts {
            acc = try and(acc, p, limit: limit, syscall: syscall)
            if acc.isEmpty { break }
        }
        return acc
    }

    /// Removes duplicate terms and terms implied by a more general one.
    static func reduce(_ terms: DNF) -> DNF {
        let unique = Array(Set(terms.map { $0.sorted() })).sorted { $0.count != $1.count ? $0.count < $1.count : $0.lexicographicallyPrecedes($1) }
        if unique.contains(where: \.isEmpty) { return always }
        guard unique.count <= 2048 else { return unique }  // too large to compare pairwise; the caller's limit applies
        var kept: DNF = []
        for t in unique where !kept.contains(where: { subsumes($0, t) }) {
            kept.append(t)
        }
        return kept
    }

    /// Whether every value satisfying `specific` satisfies `general` (checked conservatively).
    static func subsumes(_ general: Term, _ specific: Term) -> Bool {
        general.allSatisfy { g in
            specific.contains { s in
                if s == g { return true }
                guard s.arg == g.arg else { return false }
                let (sm, sv) = knownBits(s)
                guard g.op == .maskedEq || g.op == .eq, sm != 0 else { return false }
                let (gm, gv) = knownBits(g)
                return gm & ~sm == 0 && sv & gm == gv
            }
        }
    }

    /// The bits a comparison fixes: (mask, value); (0, 0) for orderings and `!=`.
    static func knownBits(_ c: Comparison) -> (UInt64, UInt64) {
        switch c.op {
        case .maskedEq: return (c.mask, c.datum)
        case .eq: return (.max, c.datum)
        default: return (0, 0)
        }
    }

    /// Simplifies a conjunction into at most one comparison per argument, as a DNF
    /// (empty when unsatisfiable). Several constraints on one argument are merged, or
    /// expanded into masked-equals when no single comparison can express them.
    static func simplify(_ term: Term) -> DNF {
        var result: DNF = [[]]
        for arg in Set(term.map(\.arg)).sorted() {
            let forArg = perArgument(term.filter { $0.arg == arg }, arg: arg)
            if forArg.isEmpty { return [] }
            result = result.flatMap { t in forArg.map { t + $0 } }
        }
        return result
    }

    /// Constraints on one argument → a DNF whose terms have at most one comparison.
    static func perArgument(_ cs: [Comparison], arg: Int) -> DNF {
        var mask: UInt64 = 0, value: UInt64 = 0
        var lo: UInt64 = 0, hi: UInt64 = .max
        var ne: Set<UInt64> = []
        for c in cs {
            switch c.op {
            case .maskedEq, .eq:
                let (m, v) = knownBits(c)
                if (mask & m) & (value ^ v) != 0 { return [] }
                mask |= m; value |= v
            case .ne: ne.insert(c.datum)
            case .lt: if c.datum == 0 { return [] } else { hi = min(hi, c.datum - 1) }
            case .le: hi = min(hi, c.datum)
            case .gt: if c.datum == .max { return [] } else { lo = max(lo, c.datum + 1) }
            case .ge: lo = max(lo, c.datum)
            }
        }
        if lo > hi { return [] }
        if lo == hi {  // an interval of one value is an equality
            if mask & (value ^ lo) != 0 { return [] }
            mask = .max; value = lo
        }
        if mask == .max {
            if value < lo || value > hi || ne.contains(value) { return [] }
            return [[Comparison(arg: arg, op: .eq, datum: value, mask: 0)]]
        }
        ne = ne.filter { $0 >= lo && $0 <= hi && $0 & mask == value }
        var parts: [Term] = []
        if mask != 0 { parts.append([.masked(arg, mask, value)]) }
        if lo > 0 { parts.append([Comparison(arg: arg, op: .ge, datum: lo, mask: 0)]) }
        if hi < .max { parts.append([Comparison(arg: arg, op: .le, datum: hi, mask: 0)]) }
        for v in ne.sorted() { parts.append([Comparison(arg: arg, op: .ne, datum: v, mask: 0)]) }
        if parts.count <= 1 { return parts.isEmpty ? [[]] : [parts[0]] }
        // Several comparisons on one argument: express all as masked-equals and merge.
        var dnf: DNF = [[]]
        if mask != 0 { dnf = [[.masked(arg, mask, value)]] }
        var pieces: [DNF] = []
        if lo > 0 { pieces.append(greater(arg, lo - 1, width: 64)) }
        if hi < .max { pieces.append(less(arg, hi + 1, width: 64)) }
        for v in ne.sorted() { pieces.append(bitsDiffer(arg, mask: .max, from: v)) }
        for p in pieces {
            var next: DNF = []
            for t in dnf {
                for u in p {
                    let merged = mergeMasked(t + u, arg: arg)
                    if let m = merged { next.append(m) }
                }
            }
            dnf = reduce(next)
            if dnf.isEmpty { return [] }
        }
        return dnf
    }

    /// Merges masked-equals on one argument into one; nil when contradictory.
    static func mergeMasked(_ cs: [Comparison], arg: Int) -> Term? {
        var mask: UInt64 = 0, value: UInt64 = 0
        for c in cs {
            let (m, v) = knownBits(c)
            if (mask & m) & (value ^ v) != 0 { return nil }
            mask |= m; value |= v
        }
        if mask == 0 { return [] }
        if mask == .max { return [Comparison(arg: arg, op: .eq, datum: value, mask: 0)] }
        return [.masked(arg, mask, value)]
    }
}
