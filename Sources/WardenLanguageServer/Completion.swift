import WardenKernel
import WardenPolicy

/// `textDocument/completion`, decided by the text of the line before the cursor and the
/// block the cursor is in.
enum CompletionProvider {
    static let itemKeywords = ["warden", "include", "permissions", "identity", "test", "secret", "trigger"]
    static let statementKeywords = ["allow", "deny", "use", "description", "limit", "env", "cache", "enforce-only"]
    static let testKeywords = ["identity", "expect"]
    static let triggerKeywords = ["identity", "on", "repository", "branch", "by", "secret", "workspace", "fields", "run", "budget", "description", "fleet"]
    static let ruleKinds = ["fs", "net", "syscall", "capability", "https", "http", "git"]

    /// LSP CompletionItemKind values used here.
    enum Kind: Int64 { case keyword = 14, module = 9, constant = 21, `class` = 7, value = 12 }

    /// Where the cursor is.
    enum Block: Equatable { case top, permissions, identity, test, trigger }

    static func items(_ doc: AnalyzedDocument, at offset: Int) -> [JSON] {
        let bytes = doc.lines.bytes
        let offset = max(0, min(offset, bytes.count))
        var lineStart = offset
        while lineStart > 0, bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
        let prefix = String(decoding: bytes[lineStart..<offset], as: UTF8.self)
        let block = enclosingBlock(bytes, before: lineStart)
        let words = prefix.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        let endsInSpace = prefix.last.map { $0 == " " || $0 == "\t" || $0 == "," } ?? true
        // The words before the one being typed.
        let done = endsInSpace ? words : Array(words.dropLast())

        if let at = prefix.lastIndex(of: "@"), done.contains("syscall"),
           prefix[prefix.index(after: at)...].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            return SyscallGroups.all.map { item($0.name, .module, detail: $0.summary) }
        }
        if done.contains("capability") {
            return Capabilities.all.map { item(String($0.dropFirst(4)), .constant, detail: $0) }
        }
        if done.count == 1, ["allow", "deny"].contains(done[0]) {
            return ruleKinds.map { item($0, .keyword) }
        }
        if done.count == 2, done[0] == "expect", ["allow", "deny"].contains(done[1]) {
            return (ruleKinds + ["trigger"]).map { item($0, .keyword) }
        }
        if block == .trigger, done == ["on"] {
            return TriggerSourceKind.allCases.map { item($0.rawValue, .keyword) }
        }
        if block == .trigger, done == ["identity"] {
            let identities = doc.policy?.identities ?? [:]
            return identities.keys.sorted().map { item($0, .value, detail: identities[$0]?.description ?? "identity") }
        }
        if done == ["limit"] {
            return LimitKind.allCases.map { item($0.rawValue, .keyword) }
        }
        if done.first == "use", block == .permissions || block == .identity {
            let names = (doc.policy?.permissionSets.keys).map { Array($0) } ?? []
            return names.sorted().map { item($0, .class, detail: "permission set") }
        }
        if done == ["identity"], block == .test {
            let identities = doc.policy?.identities ?? [:]
            return identities.keys.sorted().map { item($0, .value, detail: identities[$0]?.description ?? "identity") }
        }
        if done.isEmpty {
            switch block {
            case .top: return itemKeywords.map { item($0, .keyword) }
            case .permissions, .identity: return statementKeywords.map { item($0, .keyword) }
            case .test: return testKeywords.map { item($0, .keyword) }
            case .trigger: return triggerKeywords.map { item($0, .keyword) }
            }
        }
        return []
    }

    private static func item(_ label: String, _ kind: Kind, detail: String? = nil) -> JSON {
        var members: [(String, JSON)] = [("label", .string(label)), ("kind", .int(kind.rawValue))]
        if let detail { members.append(("detail", .string(detail))) }
        return .object(members)
    }

    /// The innermost `{` block open at byte `end`, found by a scan that skips strings and
    /// comments and names each block by the first word of the line that opened it.
    static func enclosingBlock(_ bytes: [UInt8], before end: Int) -> Block {
        var stack: [Block] = []
        var lineStart = 0
        var i = 0
        var inString = false
        while i < end {
            let b = bytes[i]
            if inString {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "\"") || b == 0x0A { inString = false }
            } else {
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "#"):
                    while i < end, bytes[i] != 0x0A { i += 1 }
                    continue
                case 0x0A: lineStart = i + 1
                case UInt8(ascii: "{"):
                    let line = String(decoding: bytes[lineStart..<i], as: UTF8.self)
                    let first = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
                    switch first {
                    case "permissions": stack.append(.permissions)
                    case "identity": stack.append(.identity)
                    case "test": stack.append(.test)
                    case "trigger": stack.append(.trigger)
                    default: stack.append(stack.last ?? .top)
                    }
                case UInt8(ascii: "}"): if !stack.isEmpty { stack.removeLast() }
                default: break
                }
            }
            i += 1
        }
        return stack.last ?? .top
    }
}
