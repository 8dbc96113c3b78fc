/// A unified diff (`diff -u` style, 3 lines of context) between two texts, line by line,
/// for `warden fmt --diff`. Myers' O((N+M)·D) algorithm: fast for the small edits a
/// formatter makes, and bounded by the policy size limit otherwise.
enum UnifiedDiff {
    /// The diff from `old` to `new` with `---`/`+++` headers naming `oldName`/`newName`;
    /// empty when the texts are equal.
    static func render(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
        guard old != new else { return "" }
        let a = lines(old), b = lines(new)
        let edits = script(a, b)
        var out = "--- \(oldName)\n+++ \(newName)\n"
        // Group edits into hunks: runs of changes with up to 2*context equal lines between.
        var i = 0
        while i < edits.count {
            guard edits[i].kind != .equal else { i += 1; continue }
            var start = i
            var back = 0
            while start > 0, edits[start - 1].kind == .equal, back < context { start -= 1; back += 1 }
            var end = i
            while end < edits.count {
                if edits[end].kind != .equal { end += 1; continue }
                var run = end
                while run < edits.count, edits[run].kind == .equal { run += 1 }
                if run == edits.count || run - end > 2 * context {
                    end = min(run, end + context)
                    break
                }
                end = run
            }
            let hunk = edits[start..<end]
            let oldStart = hunk.first.map { $0.oldIndex } ?? 0
            let newStart = hunk.first.map { $0.newIndex } ?? 0
            let oldCount = hunk.filter { $0.kind != .insert }.count
            let newCount = hunk.filter { $0.kind != .delete }.count
            out += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
            for e in hunk {
                switch e.kind {
                case .equal: out += " " + a[e.oldIndex].text
                case .delete: out += "-" + a[e.oldIndex].text
                case .insert: out += "+" + b[e.newIndex].text
                }
                let terminated = e.kind == .insert ? b[e.newIndex].terminated : a[e.oldIndex].terminated
                out += terminated ? "\n" : "\n\\ No newline at end of file\n"
            }
            i = end
        }
        return out
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        // 1-based; an empty range names the line before it.
        let first = count == 0 ? start : start + 1
        return count == 1 ? "\(first)" : "\(first),\(count)"
    }

    private struct Line: Equatable {
        var text: Substring
        var terminated: Bool
    }

    private static func lines(_ s: String) -> [Line] {
        var result = s.split(separator: "\n", omittingEmptySubsequences: false).map { Line(text: $0, terminated: true) }
        if result.last?.text.isEmpty == true { result.removeLast() } else if !result.isEmpty { result[result.count - 1].terminated = false }
        return result
    }

    enum Kind { case equal, delete, insert }
    struct Edit {
        var kind: Kind
        var oldIndex: Int
        var newIndex: Int
    }

    /// The most differences Myers' search looks for (its memory grows with the square);
    /// past it the changed middle is shown as removed, then added.
    static let maxSearchDepth = 500

    /// An edit script from `a` to `b`, in order: shortest (Myers) when the texts differ in
    /// at most `maxSearchDepth` lines after the common start and end are set aside.
    private static func script(_ a: [Line], _ b: [Line]) -> [Edit] {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        var edits = (0..<prefix).map { Edit(kind: .equal, oldIndex: $0, newIndex: $0) }
        let oldMiddle = Array(a[prefix..<(a.count - suffix)]), newMiddle = Array(b[prefix..<(b.count - suffix)])
        if let middle = myers(oldMiddle, newMiddle) {
            edits += middle.map { Edit(kind: $0.kind, oldIndex: $0.oldIndex + prefix, newIndex: $0.newIndex + prefix) }
        } else {
            edits += oldMiddle.indices.map { Edit(kind: .delete, oldIndex: $0 + prefix, newIndex: prefix) }
            edits += newMiddle.indices.map { Edit(kind: .insert, oldIndex: prefix + oldMiddle.count, newIndex: $0 + prefix) }
        }
        edits += (0..<suffix).map { Edit(kind: .equal, oldIndex: a.count - suffix + $0, newIndex: b.count - suffix + $0) }
        return edits
    }

    /// The shortest edit script (Myers), or nil when it needs more than `maxSearchDepth` edits.
    private static func myers(_ a: [Line], _ b: [Line]) -> [Edit]? {
        let n = a.count, m = b.count
        let limit = min(n + m, maxSearchDepth)
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        var trace: [[Int]] = []
        var found = false
        for d in 0...limit {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) { x = v[offset + k + 1] } else { x = v[offset + k - 1] + 1 }
                var y = x - k
                while x < n, y < m, a[x] == b[y] { x += 1; y += 1 }
                v[offset + k] = x
                if x >= n, y >= m { found = true; break }
            }
            if found { break }
        }
        guard found else { return nil }
        // Walk the trace back from (n, m).
        var edits: [Edit] = []
        var x = n, y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let prevK = (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])) ? k + 1 : k - 1
            let prevX = d == 0 ? 0 : v[offset + prevK]
            let prevY = prevX - prevK
            while x > prevX, y > prevY { x -= 1; y -= 1; edits.append(Edit(kind: .equal, oldIndex: x, newIndex: y)) }
            if d > 0 {
                if x == prevX { y -= 1; edits.append(Edit(kind: .insert, oldIndex: x, newIndex: y)) } else { x -= 1; edits.append(Edit(kind: .delete, oldIndex: x, newIndex: y)) }
            }
        }
        return edits.reversed()
    }
}
