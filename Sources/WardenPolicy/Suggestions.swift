/// "Did you mean" suggestions by edit distance.
public enum Suggestions {
    /// The candidate closest to `name` (case-insensitive edit distance, transpositions count 1), if close enough:
    /// distance at most 1 for short names, 2 for names of 5+ characters, 3 for 10+.
    public static func closest<S: Sequence>(to name: String, in candidates: S) -> String? where S.Element == String {
        let target = Array(name.lowercased().utf8)
        let limit = target.count >= 10 ? 3 : (target.count >= 5 ? 2 : 1)
        var best: (String, Int)?
        for c in candidates {
            let cand = Array(c.lowercased().utf8)
            if abs(cand.count - target.count) > limit { continue }
            let d = distance(target, cand, limit: limit)
            if d <= limit, d < (best?.1 ?? Int.max) || (d == best?.1 && c < best!.0) { best = (c, d) }
        }
        guard let best, best.0 != name else { return nil }
        return best.0
    }

    /// A help line "did you mean `x`?" or nil.
    static func help(for name: String, in candidates: some Sequence<String>, prefix: String = "") -> String? {
        closest(to: name, in: candidates).map { "did you mean `\(prefix)\($0)`?" }
    }

    /// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions),
    /// giving up (returning limit+1) once a whole row exceeds `limit`.
    static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev2 = [Int](repeating: 0, count: b.count + 1)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            var rowMin = cur[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    cur[j] = Swift.min(cur[j], prev2[j - 2] + 1)
                }
                rowMin = Swift.min(rowMin, cur[j])
            }
            if rowMin > limit { return limit + 1 }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[b.count]
    }
}
