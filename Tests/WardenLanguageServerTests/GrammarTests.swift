import Foundation
import Testing

/// The TextMate grammar in examples/editors: valid JSON, every regex compiles, and a
/// simple line-by-line application of its patterns gives a policy's words the right scopes.
@Suite struct GrammarTests {
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    static func grammar() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/examples/editors/warden.tmLanguage.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Every `match`, `begin` and `end` in the grammar.
    static func regexes(_ node: Any) -> [String] {
        if let dict = node as? [String: Any] {
            var out = ["match", "begin", "end"].compactMap { dict[$0] as? String }
            for (_, value) in dict { out += regexes(value) }
            return out
        }
        if let array = node as? [Any] { return array.flatMap(regexes) }
        return []
    }

    @Test func isValidJSONAndEveryRegexCompiles() throws {
        let grammar = try Self.grammar()
        #expect(grammar["scopeName"] as? String == "source.warden")
        let all = Self.regexes(grammar)
        #expect(all.count >= 12)
        for pattern in all {
            #expect(throws: Never.self, "\(pattern)") { _ = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines]) }
        }
    }

    /// Applies the top-level patterns to `line` as a TextMate engine would (leftmost
    /// match first, earlier pattern on ties; strings' inner patterns inside strings) and
    /// returns the scope of each matched word.
    static func scopes(_ line: String, _ grammar: [String: Any]) throws -> [String: String] {
        let repository = grammar["repository"] as? [String: [String: Any]] ?? [:]
        let rules = (grammar["patterns"] as? [[String: Any]] ?? []).compactMap { ($0["include"] as? String).flatMap { repository[String($0.dropFirst())] } }
        var out: [String: String] = [:]
        let ns = line as NSString
        var position = 0
        while position < ns.length {
            var best: (NSRange, [String: Any], NSTextCheckingResult)?
            for rule in rules {
                guard let pattern = (rule["match"] ?? rule["begin"]) as? String else { continue }
                let regex = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
                guard let m = regex.firstMatch(in: line, range: NSRange(location: position, length: ns.length - position)), m.range.length > 0 else { continue }
                if best == nil || m.range.location < best!.0.location { best = (m.range, rule, m) }
            }
            guard let (range, rule, match) = best else { break }
            if let name = rule["name"] as? String, rule["match"] != nil { out[ns.substring(with: range)] = name }
            if let captures = rule["captures"] as? [String: [String: String]] {
                for (index, capture) in captures {
                    let r = match.range(at: Int(index)!)
                    if r.location != NSNotFound, let name = capture["name"] { out[ns.substring(with: r)] = name }
                }
            }
            var end = NSMaxRange(range)
            if rule["begin"] != nil, let endPattern = rule["end"] as? String {
                let close = try NSRegularExpression(pattern: endPattern, options: [.anchorsMatchLines])
                let closing = close.firstMatch(in: line, range: NSRange(location: end, length: ns.length - end))
                let innerEnd = closing?.range.location ?? ns.length
                for inner in rule["patterns"] as? [[String: Any]] ?? [] {
                    let regex = try NSRegularExpression(pattern: inner["match"] as! String)
                    for m in regex.matches(in: line, range: NSRange(location: end, length: innerEnd - end)) {
                        out[ns.substring(with: m.range)] = inner["name"] as? String
                    }
                }
                out[ns.substring(with: NSRange(location: range.location, length: (closing.map { NSMaxRange($0.range) } ?? ns.length) - range.location))] = rule["name"] as? String
                end = closing.map { NSMaxRange($0.range) } ?? ns.length
            }
            position = max(end, position + 1)
        }
        return out
    }

    @Test func highlightsAStockPolicy() throws {
        let grammar = try Self.grammar()
        let policy = try String(contentsOfFile: Self.root + "/policies/default.warden", encoding: .utf8)
        var seen: [String: String] = [:]
        for line in policy.split(separator: "\n") {
            seen.merge(try Self.scopes(String(line), grammar)) { a, _ in a }
        }
        #expect(seen["warden"] == "keyword.other.header.warden")
        #expect(seen["include"] == "keyword.other.warden")
        #expect(seen["identity"] == "keyword.other.declaration.warden")
        #expect(seen["default"] == "entity.name.type.warden")
        #expect(seen["allow"] == "keyword.control.effect.warden")
        #expect(seen["deny"] == "keyword.control.effect.warden")
        #expect(seen["fs"] == "storage.type.rule-kind.warden")
        #expect(seen["limit"] == "keyword.other.warden")
        #expect(seen["4GiB"] == "constant.numeric.warden")
        #expect(seen["30m"] == "constant.numeric.warden")
        #expect(seen["${workspace}"] == "variable.other.warden")
        #expect(seen["AF_UNIX"] == "constant.language.warden")
        #expect(seen.keys.contains { $0.hasPrefix("# The safe default") })
    }

    @Test func highlightsSyscallGroupsAndKeepsHyphenatedNamesWhole() throws {
        let grammar = try Self.grammar()
        let scopes = try Self.scopes("  allow syscall @default, @file-system  # allow-list", grammar)
        #expect(scopes["@default"] == "support.constant.syscall-group.warden")
        #expect(scopes["@file-system"] == "support.constant.syscall-group.warden")
        #expect(scopes["# allow-list"] == "comment.line.number-sign.warden")
        let use = try Self.scopes("  use my-use-case", grammar)
        #expect(use["use"] == "keyword.other.warden")
        #expect(use["my-use-case"] == nil)
    }
}
