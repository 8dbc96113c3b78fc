import ArgumentParser
import WardenKernel

/// `warden syscalls`: the syscall groups policies can name, with their members.
struct SyscallsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syscalls",
        abstract: "List the syscall groups (@default, @network-io, ...) and what they contain."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .long, help: "Show one group (with or without '@'), expanded, with numbers per architecture.")
    var group: String?

    @Option(name: .long, help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        if let name = group {
            guard let g = SyscallGroups.named(name), let members = SyscallGroups.expand(name) else {
                var stderr = StandardError()
                print("warden syscalls: unknown group '\(shown(name))'; known groups: "
                      + SyscallGroups.all.map { "@" + $0.name }.joined(separator: ", "), to: &stderr)
                throw ExitCode(2)
            }
            print(format == .json ? SyscallsOutput.groupJSON(g, members) : SyscallsOutput.groupText(g, members), terminator: "")
        } else {
            print(format == .json ? SyscallsOutput.listJSON() : SyscallsOutput.listText(), terminator: "")
        }
    }
}

/// Rendering for `warden syscalls` (text and JSON, without Foundation).
enum SyscallsOutput {
    static func listText() -> String {
        var out = ""
        for g in SyscallGroups.all {
            out += "@\(g.name): \(g.summary)\n"
            out += wrap(g.members, indent: "    ")
        }
        return out
    }

    static func groupText(_ g: SyscallGroup, _ members: [String]) -> String {
        var out = "@\(g.name): \(g.summary)\n"
        out += "includes: \(g.members.joined(separator: " "))\n"
        out += pad("syscall", 28) + pad("x86_64", 8) + "aarch64\n"
        for m in members {
            let x = SyscallTable.number(of: m, arch: .x86_64).map(String.init) ?? "-"
            let a = SyscallTable.number(of: m, arch: .aarch64).map(String.init) ?? "-"
            out += pad(m, 28) + pad(x, 8) + a + "\n"
        }
        out += "\(members.count) syscalls\n"
        return out
    }

    static func listJSON() -> String {
        let items = SyscallGroups.all.map { g in
            "{\"name\":\(quote("@" + g.name)),\"summary\":\(quote(g.summary)),\"members\":[\(g.members.map(quote).joined(separator: ","))]}"
        }
        return "{\"groups\":[\(items.joined(separator: ","))]}\n"
    }

    static func groupJSON(_ g: SyscallGroup, _ members: [String]) -> String {
        let rows = members.map { m -> String in
            let x = SyscallTable.number(of: m, arch: .x86_64).map(String.init) ?? "null"
            let a = SyscallTable.number(of: m, arch: .aarch64).map(String.init) ?? "null"
            return "{\"name\":\(quote(m)),\"x86_64\":\(x),\"aarch64\":\(a)}"
        }
        return "{\"name\":\(quote("@" + g.name)),\"summary\":\(quote(g.summary)),\"members\":[\(g.members.map(quote).joined(separator: ","))],\"syscalls\":[\(rows.joined(separator: ","))]}\n"
    }

    static func quote(_ s: String) -> String { JSONText.quote(s) }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

    static func wrap(_ words: [String], indent: String, width: Int = 96) -> String {
        var out = "", line = indent
        for w in words {
            if line.count + w.count + 1 > width, line != indent { out += line + "\n"; line = indent }
            line += (line == indent ? "" : " ") + w
        }
        return line == indent ? out : out + line + "\n"
    }
}

/// Writes to standard error (private to this command).
private struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { buf in _ = Glibc.write(2, buf.baseAddress, buf.count) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
