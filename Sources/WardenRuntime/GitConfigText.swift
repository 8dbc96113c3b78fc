/// A best-effort reading of a git config file: enough to name the settings a change adds and
/// to find the paths a config points at (hooks directory, fsmonitor program, included files).
///
/// It never decides safety on its own: the control-plane check reports every change to a
/// config whatever this reads in it; the names only make the report say what changed.
struct GitConfigText: Equatable, Sendable {
    /// One `key = value` setting; `key` is `section[.subsection].name` with the section and
    /// name lower-cased, as git compares them.
    struct Setting: Hashable, Sendable {
        var key: String
        var value: [UInt8]
    }

    var settings: [Setting]

    init(_ bytes: [UInt8]) {
        var settings: [Setting] = []
        var section = ""
        var continued = false
        // git skips a UTF-8 byte order mark at the start of a config file.
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        for rawLine in body.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = Array(rawLine)
            if line.last == 0x0D { line.removeLast() }
            // A value continued from the previous line is not a key. Only a value continues
            // (an odd backslash outside quotes and comments); a comment ends at its line.
            if continued {
                if let last = settings.indices.last { settings[last].value += line }
                continued = Self.valueContinues(line)
                continue
            }
            continued = false
            var rest = Self.trimmedLeft(line[...])
            guard let first = rest.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";") else { continue }
            if first == UInt8(ascii: "[") {
                guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else { continue }
                section = Self.sectionName(Array(rest[rest.index(after: rest.startIndex)..<close]))
                rest = Self.trimmedLeft(rest[rest.index(after: close)...])
                // `[section] key = value` on one line is allowed.
                guard let f = rest.first, f != UInt8(ascii: "#"), f != UInt8(ascii: ";") else { continue }
            }
            let nameEnd = rest.firstIndex { !(Self.isNameByte($0)) } ?? rest.endIndex
            let name = String(decoding: rest[rest.startIndex..<nameEnd], as: UTF8.self).lowercased()
            guard !name.isEmpty else { continue }
            var value = Self.trimmedLeft(rest[nameEnd...])
            if value.first == UInt8(ascii: "=") { value = Self.trimmedLeft(value.dropFirst()) }
            settings.append(Setting(key: section.isEmpty ? name : section + "." + name, value: Array(value)))
            continued = Self.valueContinues(Array(value))
        }
        self.settings = settings
    }

    /// The values of `key` (exact, lower-case section and name), unquoted, without a trailing
    /// comment or blanks.
    func values(_ key: String) -> [[UInt8]] { settings.filter { $0.key == key }.map { Self.plain($0.value) } }

    /// Keys for which `matches` holds, in file order.
    func keys(where matches: (String) -> Bool) -> [String] { settings.map(\.key).filter(matches) }

    /// A raw value with quotes removed (escapes kept as written but `\"` and `\\`), stopping at
    /// an unquoted `#` or `;`, trailing blanks trimmed.
    static func plain(_ raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var quoted = false
        var i = 0
        while i < raw.count {
            let b = raw[i]
            if b == UInt8(ascii: "\\"), i + 1 < raw.count {
                out.append(raw[i + 1])
                i += 2
                continue
            }
            if b == UInt8(ascii: "\"") { quoted.toggle(); i += 1; continue }
            if !quoted, b == UInt8(ascii: "#") || b == UInt8(ascii: ";") { break }
            out.append(b)
            i += 1
        }
        while let last = out.last, last == 0x20 || last == 0x09 { out.removeLast() }
        return out
    }

    /// Settings that run a program or make git read configuration, hooks or objects from
    /// elsewhere, by the key patterns git documents.
    static func isDangerous(_ key: String) -> Bool {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let section = parts.first, let name = parts.last else { return false }
        let exact: Set<String> = [
            "core.fsmonitor", "core.hookspath", "core.sshcommand", "core.pager", "core.editor", "core.askpass",
            "core.gitproxy", "core.worktree", "core.attributesfile", "core.alternaterefscommand", "diff.external",
            "sequence.editor", "gpg.program", "credential.helper", "include.path", "uploadpack.packobjectshook",
            "extensions.worktreeconfig", "protocol.allow",
        ]
        if exact.contains(key) { return true }
        switch section {
        case "includeif": return name == "path"
        case "filter": return ["clean", "smudge", "process"].contains(name)
        case "diff": return ["textconv", "command"].contains(name)
        case "merge": return name == "driver"
        case "pager", "alias": return true
        case "gpg", "credential": return name == "program" || name == "helper"
        case "remote": return ["uploadpack", "receivepack", "proxy", "vcs"].contains(name)
        case "url": return name == "insteadof" || name == "pushinsteadof"
        case "protocol": return name == "allow"
        case "submodule": return name == "update"
        default: return false
        }
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "-")
    }

    private static func trimmedLeft(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        s.drop { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }  // git's isspace: \t \n \v \f \r too
    }

    /// `section "Sub"` -> `section.Sub`; `section.sub` (legacy) -> `section.sub`.
    private static func sectionName(_ header: [UInt8]) -> String {
        let trimmed = trimmedLeft(header[...])
        if let quote = trimmed.firstIndex(of: UInt8(ascii: "\"")) {
            let name = String(decoding: trimmed[trimmed.startIndex..<quote], as: UTF8.self)
                .trimmingSpaces().lowercased()
            var sub: [UInt8] = []
            var i = trimmed.index(after: quote)
            while i < trimmed.endIndex, trimmed[i] != UInt8(ascii: "\"") {
                if trimmed[i] == UInt8(ascii: "\\"), trimmed.index(after: i) < trimmed.endIndex { i = trimmed.index(after: i) }
                sub.append(trimmed[i])
                i = trimmed.index(after: i)
            }
            return name + "." + String(decoding: sub, as: UTF8.self)
        }
        return String(decoding: trimmed, as: UTF8.self).trimmingSpaces().lowercased()
    }

    /// Whether a raw value continues on the next line: it ends in an unescaped backslash that
    /// is not inside a comment.
    static func valueContinues(_ raw: [UInt8]) -> Bool {
        var quoted = false, escaped = false
        for b in raw {
            if escaped { escaped = false; continue }
            if b == UInt8(ascii: "\\") { escaped = true; continue }
            if b == UInt8(ascii: "\"") { quoted.toggle(); continue }
            if !quoted, b == UInt8(ascii: "#") || b == UInt8(ascii: ";") { return false }
        }
        return escaped
    }

    /// Settings that `git init` and `git clone` write, and nothing that runs or redirects:
    /// anything else in a repository created during a run is reported.
    static func isOrdinaryForNewRepository(_ key: String) -> Bool {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let section = parts.first, let name = parts.last else { return false }
        let exact: Set<String> = [
            "core.repositoryformatversion", "core.filemode", "core.bare", "core.logallrefupdates", "core.ignorecase",
            "core.precomposeunicode", "core.symlinks", "core.autocrlf", "core.eol", "extensions.objectformat",
            "init.defaultbranch", "user.name", "user.email", "pull.rebase", "fetch.prune", "gc.auto",
        ]
        if exact.contains(key) { return true }
        switch (section, name) {
        case ("remote", "url"), ("remote", "fetch"), ("branch", "remote"), ("branch", "merge"), ("branch", "rebase"),
             ("submodule", "url"), ("submodule", "active"):
            return parts.count == 3
        default:
            return false
        }
    }

}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
