/// Host paths compared and split as the kernel does: byte for byte, at every `/` byte.
///
/// Swift's `String` operations work on characters under canonical equivalence: `/` followed
/// by a combining mark is one character (so `hasPrefix("/ws/")` is false for the kernel's
/// `/ws/` + `\u{301}x`, and `split(separator: "/")` does not split there), and U+212A equals
/// `K`. A link target is the agent's to choose, so paths that came from the host
/// (`realpath`, `readlink`) must never go through them.
enum HostPath {
    private static let slash = UInt8(ascii: "/")

    /// Whether `path` is `root` or lies below it (every path lies within `/`).
    static func isWithin(_ path: String, _ root: String) -> Bool {
        root.utf8.elementsEqual([slash]) || same(path, root) || isBelow(path, root)
    }

    /// Whether `path` lies strictly below `root` (starts with `root` and a `/` byte).
    static func isBelow(_ path: String, _ root: String) -> Bool {
        let p = path.utf8, r = root.utf8
        guard p.count > r.count, p.starts(with: r) else { return false }
        return p[p.index(p.startIndex, offsetBy: r.count)] == slash
    }

    /// Whether `path` starts with the bytes of `prefix`.
    static func hasPrefix(_ path: String, _ prefix: String) -> Bool { path.utf8.starts(with: prefix.utf8) }

    /// Byte-for-byte equality.
    static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// Whether `path` starts with a `/` byte.
    static func isAbsolute(_ path: some StringProtocol) -> Bool { path.utf8.first == slash }

    /// The non-empty components of `path`, split at every `/` byte.
    static func components(_ path: some StringProtocol) -> [String] {
        path.utf8.split(separator: slash).map { String(decoding: $0, as: UTF8.self) }
    }
}

extension HostPath {
    /// What follows the first `count` bytes of `path` (a prefix it was checked to have).
    static func dropping(_ count: Int, from path: String) -> String {
        String(decoding: path.utf8.dropFirst(count), as: UTF8.self)
    }

    /// `path` without its last component (`""` for a path directly below `/`).
    static func parent(_ path: String) -> String {
        guard let i = path.utf8.lastIndex(of: slash) else { return "" }
        return String(decoding: path.utf8[..<i], as: UTF8.self)
    }
}
