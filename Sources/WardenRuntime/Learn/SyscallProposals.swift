import WardenCompiler
import WardenKernel
import WardenPolicy

/// Turns observed syscall denials into `allow syscall` rules (see docs/learn.md):
/// - only a default deny is proposed (a deny rule or a built-in safeguard decides the rest);
/// - a syscall that is dangerous (the `dangerous-grant` lint's list, or a member of a group
///   that reaches kernel attack surface: @debug, @mount, @namespaces, @bpf...) is never
///   proposed;
/// - when the policy's rules for the syscall test arguments, the proposal allows the
///   observed values of those arguments only (`socket(domain == 0x10)`), not every call.
struct SyscallProposals {
    var effective: EffectivePolicy

    /// Groups whose members are never proposed.
    static let dangerousGroups = ["setuid", "mount", "module", "raw-io", "reboot", "swap", "clock", "debug", "keyring",
                                  "io-uring", "bpf", "namespaces", "file-handles", "privileged", "numa-other", "cpu-emulation"]
    static let dangerousMembers: [String: String] = {
        var m: [String: String] = [:]
        for g in dangerousGroups.reversed() { for name in SyscallGroups.expand(g) ?? [] { m[name] = g } }
        return m
    }()

    /// Why `name` is never proposed, or nil.
    static func danger(_ name: String) -> String? {
        if let g = dangerousMembers[name] { return "dangerous syscalls are never proposed (@\(g))" }
        if LintRules.isDangerousSyscall(name) { return "dangerous syscalls are never proposed" }
        return nil
    }

    func propose(_ observations: [(name: String, arguments: [UInt64], count: Int64)]) -> (rules: [ProposedRule], notProposed: [NotProposed]) {
        var rules: [String: (count: Int64, name: String)] = [:]
        var skipped: [String: (reason: String, what: String, count: Int64)] = [:]
        for o in observations {
            let grants = effective.syscalls.filter { $0.syscall == o.name }
            // The arguments some rule for this syscall tests, by index, with their names.
            var tested: [Int: String] = [:]
            for c in grants.flatMap(\.conditions) { tested[c.argument] = c.argumentName }
            let width = (tested.keys.max() ?? -1) + 1
            var args = Array(o.arguments.prefix(width))
            while args.count < width { args.append(0) }
            let shown = args.isEmpty ? "" : "(" + args.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") + ")"
            let what = "syscall \(o.name)\(shown)"
            func skip(_ reason: String) {
                var e = skipped[reason + "\u{0}" + what] ?? (reason, what, 0)
                e.count += o.count
                skipped[reason + "\u{0}" + what] = e
            }
            guard SyscallTable.allNames.contains(o.name) else { skip("not a syscall this host knows"); continue }
            let decision = effective.decideSyscall(o.name, arguments: args)
            if decision.effect == .allow { continue }
            if let why = Self.danger(o.name) { skip(why); continue }
            if let rule = decision.rules.first {
                skip(rule.file == nil ? "a built-in safeguard denies it" : "denied by \(rule.location): \(rule.rule)")
                continue
            }
            let conditions = tested.keys.sorted().map { i in "\(tested[i]!) == 0x" + String(args[i], radix: 16) }
            let text = "allow syscall \(o.name)" + (conditions.isEmpty ? "" : "(" + conditions.joined(separator: ", ") + ")")
            var e = rules[text] ?? (0, o.name)
            e.count += o.count
            rules[text] = e
        }
        let proposed = rules.map { text, e in
            ProposedRule(domain: .syscall, text: text, evidence: "learned: \(e.name) denied \(e.count) time\(e.count == 1 ? "" : "s")")
        }
        let notProposed = skipped.values.map { NotProposed(reason: $0.reason, what: $0.what + " (\($0.count) time\($0.count == 1 ? "" : "s"))") }
        return (proposed, notProposed)
    }
}
