import WardenPolicy

/// A `/`-separated pattern as HTTP paths and git refs write them: segments (a literal,
/// `*` for one non-empty segment, or a glob with `*` inside), then an optional final `**`
/// (zero or more further segments). Deny rules match leniently (`lenient`).
struct SegmentPattern: Hashable {
    var segments: [String]
    var trailingGlob: Bool
    var lenient: Bool
}

/// Representative values (HTTP paths or git refs) for a set of segment patterns: one per
/// distinct set of patterns a value can match, as far as the candidate segments reach.
///
/// Method: a breadth-first walk over segment positions. A state is the set of patterns
/// still matching the segments so far (at a given depth, two prefixes with the same set
/// have the same futures, so one is kept). At each depth a state ends a value (and, for
/// HTTP, a value with a trailing `/`, which exact patterns see as an empty last segment
/// and lenient ones ignore), or takes one more segment from the candidates of that
/// position. Past the longest pattern, only `**` patterns still match, whatever the
/// segments: depth `longest + 1` is the last that can change which patterns match.
///
/// Candidates at a position: each literal segment any pattern has there; its case
/// variants (lenient matching ignores case: a variant no pattern spells exactly stands for
/// all other spellings); for HTTP, the literal with a format suffix (`.json`, which
/// lenient matching strips); each glob segment instantiated with its `*`s empty, filled
/// with a fresh run, and filled with every other pattern's literal at that position (the
/// intersections of two globs); and a fresh segment that no non-`*` pattern matches.
///
/// Exactness: for literal and `*` segments this enumerates every class of segment values
/// (a value equals one literal or none; lenient matching depends on its lower-case form
/// and the part before its first `.`; both are covered by the variants), so the
/// representatives are exact. Globs inside a segment (`v*`, `*.tar.gz`) describe regular
/// languages whose Boolean combinations representatives cannot enumerate in general
/// (three globs can intersect where no pair's instantiation lands); the instantiations
/// above cover each glob alone, each glob with each literal, and each pair of globs
/// whose fixed parts can be concatenated. That residual is documented in docs and left to
/// the oracle's brute force.
struct SegmentRepresentatives {
    enum Language { case httpPath, gitRef }

    /// A value: its segments, and (HTTP) whether it ends with `/`.
    struct Value: Hashable {
        var segments: [String]
        var trailingSlash: Bool
    }

    /// Thrown when the walk would keep more states than `stateBound`.
    struct TooComplex: Error { var detail: String }

    let patterns: [SegmentPattern]
    let language: Language
    var stateBound = 20_000

    init(_ patterns: [SegmentPattern], language: Language) {
        var seen: Set<SegmentPattern> = []
        self.patterns = patterns.filter { seen.insert($0).inserted }
        self.language = language
    }

    /// One value per distinct set of matching patterns (sets matching no pattern left out),
    /// shortest first. Only values `isValid` accepts represent a set: an invalid value (the
    /// bare `refs` that `refs/**` matches) would otherwise hide the valid ones deeper down
    /// with the same patterns.
    func values(isValid: (Value) -> Bool = { _ in true }) throws(TooComplex) -> [Value] {
        let longest = patterns.map(\.segments.count).max() ?? 0
        var bySignature: [[Int]: Value] = [:]
        var order: [[Int]] = []
        func end(_ signature: [Int], _ value: Value) {
            guard !signature.isEmpty, bySignature[signature] == nil, isValid(value) else { return }
            bySignature[signature] = value
            order.append(signature)
        }
        var states: [(alive: [Int], segments: [String])] = [(Array(patterns.indices), [])]
        for depth in 0...(longest + 1) {
            for state in states {
                let plain = state.alive.filter { patterns[$0].segments.count <= depth }
                if language == .gitRef && depth == 0 { continue }
                end(plain, Value(segments: state.segments, trailingSlash: false))
                if language == .httpPath && depth >= 1 {
                    let slash = state.alive.filter {
                        let p = patterns[$0]
                        return p.segments.count <= depth && (p.lenient || p.trailingGlob)
                    }
                    end(slash, Value(segments: state.segments, trailingSlash: true))
                }
            }
            if depth == longest + 1 { break }
            let candidates = candidates(at: depth)
            var next: [(alive: [Int], segments: [String])] = []
            var seen: Set<[Int]> = []
            for state in states {
                for c in candidates {
                    let alive = state.alive.filter { i in
                        let p = patterns[i]
                        return p.segments.count <= depth ? p.trailingGlob : segmentMatches(p.segments[depth], c, lenient: p.lenient)
                    }
                    guard !alive.isEmpty, seen.insert(alive).inserted else { continue }
                    next.append((alive, state.segments + [c]))
                    if next.count > stateBound {
                        throw TooComplex(detail: "more than \(stateBound) distinct path classes at depth \(depth + 1)")
                    }
                }
            }
            states = next
        }
        return order.compactMap { bySignature[$0] }
    }

    /// Whether one segment pattern matches one segment value, as the rules match.
    func segmentMatches(_ pattern: String, _ value: String, lenient: Bool) -> Bool {
        guard !value.isEmpty else { return false }
        switch language {
        case .httpPath:
            // The rules' own matcher on a one-segment path (lenient: case, format suffix).
            return HTTPPattern(host: .domain("x"), port: nil, segments: [pattern], trailingGlob: false)
                .matchesPath("/" + value, lenient: lenient)
        case .gitRef:
            if pattern == "*" { return true }
            return lenient ? Self.glob(Array(pattern.lowercased().utf8), Array(value.lowercased().utf8))
                : Self.glob(Array(pattern.utf8), Array(value.utf8))
        }
    }

    /// `*` matches any run of bytes; everything else matches itself.
    static func glob(_ p: [UInt8], _ t: [UInt8]) -> Bool {
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != UInt8(ascii: "*"), p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Fresh segments tried in order (the first no non-`*` pattern at the position matches).
    static let freshSegments = ["warden-diff-x", "warden-diff-y", "wdx", "q", "0", "_"]

    func candidates(at position: Int) -> [String] {
        let here = patterns.filter { $0.segments.count > position }.map { $0.segments[position] }.filter { $0 != "*" }
        var seen: Set<String> = []
        var out: [String] = []
        func add(_ s: String) {
            guard !s.isEmpty, seen.insert(s).inserted else { return }
            out.append(s)
        }
        let literals = Set(here.filter { !$0.contains("*") })
        let lowerLiterals = Set(literals.map { $0.lowercased() })
        var bases: [String] = []
        for segment in Set(here).sorted() {
            if segment.contains("*") {
                bases.append(Self.fill(segment, with: ""))
                bases.append(Self.fill(segment, with: "wdx"))
                for other in here where other != segment {
                    bases.append(Self.fill(segment, with: Self.fill(other, with: "")))
                }
            } else {
                bases.append(segment)
            }
        }
        for base in bases {
            add(base)
            // A spelling no pattern has exactly, for lenient (case-blind) matching.
            let variants = [base.lowercased(), base.uppercased(), Self.swapFirstLetter(base), Self.swapLastLetter(base)]
            if let variant = variants.first(where: { $0 != base && !literals.contains($0) }) { add(variant) }
            add(base.lowercased())
            if language == .httpPath {
                let suffixed = [".json", ".warden-diff-x"].map { base + $0 }
                add(suffixed.first { !lowerLiterals.contains($0.lowercased()) } ?? suffixed[1])
            }
        }
        let fresh = Self.freshSegments.first { f in
            !here.contains { segmentMatches($0, f, lenient: true) || segmentMatches($0, f, lenient: false) }
        } ?? Self.freshSegments[0]
        add(fresh)
        return out
    }

    /// `pattern` with every `*` replaced by `text`.
    static func fill(_ pattern: String, with text: String) -> String {
        pattern.split(separator: "*", omittingEmptySubsequences: false).joined(separator: text)
    }

    static func swapFirstLetter(_ s: String) -> String {
        guard let i = s.firstIndex(where: { $0.isLetter && $0.isASCII }) else { return s }
        return swapCase(s, at: i)
    }

    static func swapLastLetter(_ s: String) -> String {
        guard let i = s.lastIndex(where: { $0.isLetter && $0.isASCII }) else { return s }
        return swapCase(s, at: i)
    }

    private static func swapCase(_ s: String, at i: String.Index) -> String {
        let c = s[i]
        let swapped = c.isUppercase ? c.lowercased() : c.uppercased()
        return String(s[..<i]) + swapped + String(s[s.index(after: i)...])
    }
}
