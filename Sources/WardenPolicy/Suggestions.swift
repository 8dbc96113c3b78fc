/// "Did you mean" suggestions by edit distance.
public enum Suggestions {
    /// The candidate closest to `name` (case-insensitive edit distance, transpositions count 1), if close enough:
    /// distance at most 1 for short names, 2 for names of 5+ characters, 3 for 10+.
    public static func closest<S: Sequence>(to name: String, in candidates: S) -> String? where S.Element == String {
        let target = Array(name.utf8).map(lower)
        let limit = target.count >= 10 ? 3 : (target.count >= 5 ? 2 : 1)
        var best: (String, Int)?
        var rows = Rows()
        for c in candidates {
            let count = c.utf8.count
            if abs(count - target.count) > limit { continue }
            let cand = c.utf8.map(lower)
            let d = distance(target, cand, limit: limit, rows: &rows)
            if d <= limit, d < (best?.1 ?? Int.max) || (d == best?.1 && c < (best?.0 ?? "")) { best = (c, d) }
        }
        guard let best, best.0 != name else { return nil }
        return best.0
    }

    private static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// A help line "did you mean `x`?" or nil.
    static func help(for name: String, in candidates: some Sequence<String>, prefix: String = "") -> String? {
        closest(to: name, in: candidates).map { "did you mean `\(prefix)\($0)`?" }
    }

    /// Scratch rows reused across distance computations.
    struct Rows {
        var prev2: [Int] = []
        var prev: [Int] = []
        var cur: [Int] = []
    }

    static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        var rows = Rows()
        return distance(a, b, limit: limit, rows: &rows)
    }

    /// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions),
    /// giving up (returning limit+1) once a whole row exceeds `limit`.
    static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int, rows: inout Rows) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let n = b.count + 1
        if rows.cur.count < n {
            rows.prev2 = [Int](repeating: 0, count: n)
            rows.prev = [Int](repeating: 0, count: n)
            rows.cur = [Int](repeating: 0, count: n)
        }
        for j in 0..<n { rows.prev[j] = j }
        for i in 1...a.count {
            rows.cur[0] = i
            var rowMin = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var v = Swift.min(rows.prev[j] + 1, rows.cur[j - 1] + 1, rows.prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { v = Swift.min(v, rows.prev2[j - 2] + 1) }
                rows.cur[j] = v
                rowMin = Swift.min(rowMin, v)
            }
            if rowMin > limit { return limit + 1 }
            swap(&rows.prev2, &rows.prev)
            swap(&rows.prev, &rows.cur)
        }
        return rows.prev[b.count]
    }
}
