/// A named set of syscalls (`@default`, `@file-system`, ...), written `@name` in policies.
public struct SyscallGroup: Sendable, Hashable {
    /// The name without the leading `@`.
    public let name: String
    /// One line saying what the group is for.
    public let summary: String
    /// Syscall names or other groups (written with `@`).
    public let members: [String]

    public init(name: String, summary: String, members: [String]) {
        self.name = name
        self.summary = summary
        self.members = members
    }
}

/// The syscall groups Warden defines. Defined once here; `warden syscalls` lists them.
public enum SyscallGroups {
    /// Every group, sorted by name.
    public static let all: [SyscallGroup] = SyscallGroupDefinitions.groups.sorted { $0.name < $1.name }

    /// The group called `name` (with or without the leading `@`).
    public static func named(_ name: String) -> SyscallGroup? {
        let bare = name.hasPrefix("@") ? String(name.dropFirst()) : name
        return all.first { $0.name == bare }
    }

    /// The syscall names `name` stands for, groups expanded recursively; nil when unknown.
    public static func expand(_ name: String) -> [String]? {
        guard let group = named(name) else { return nil }
        var seen: Set<String> = [group.name]
        var out: Set<String> = []
        var stack = group.members
        while let m = stack.popLast() {
            if m.hasPrefix("@") {
                guard let g = named(m), seen.insert(g.name).inserted else { continue }
                stack.append(contentsOf: g.members)
            } else {
                out.insert(m)
            }
        }
        return out.sorted()
    }
}
