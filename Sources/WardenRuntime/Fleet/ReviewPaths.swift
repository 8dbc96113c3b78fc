/// Checks and encodings of the paths a review commit is made of (`warden fleet`, `warden
/// serve`): paths come from a tree an agent wrote, or from a commit a stranger sent.
public enum ReviewPaths {
    /// A component named `.git` in any case: git refuses such paths, and a nested
    /// repository is not part of the work tree's content.
    public static func hasGitComponent(_ path: [UInt8]) -> Bool {
        path.split(separator: 0x2F).contains { c in
            c.count == 4 && c.first == 0x2E && c.dropFirst().map { $0 | 0x20 } == Array("git".utf8)
        }
    }

    /// True when every component of `path` is a name: not empty, `.` or `..`. Git does not
    /// check the trees it fetches, so a crafted tree entry `..` in a pull request's commit
    /// must not lead a path out of the directory it is written under.
    public static func isPlainRelative(_ path: [UInt8]) -> Bool {
        !path.isEmpty && path.split(separator: 0x2F, omittingEmptySubsequences: false).allSatisfy { c in
            !c.isEmpty && !(c.count <= 2 && c.allSatisfy { $0 == 0x2E })
        }
    }

    /// `path` in C-style quotes, as `git fast-import` reads them: `"` and `\` escaped, and
    /// control bytes, DEL and every byte of 0x80 and above as three octal digits, so any
    /// name (a newline in it, bytes that are not UTF-8) is carried exactly.
    public static func fastImportQuoted(_ path: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for b in path {
            switch b {
            case 0x22, 0x5C: out += [0x5C, b]
            case 0x20..<0x7F: out.append(b)
            default: out += [0x5C, 0x30 + (b >> 6), 0x30 + ((b >> 3) & 7), 0x30 + (b & 7)]
            }
        }
        out.append(0x22)
        return out
    }
}
