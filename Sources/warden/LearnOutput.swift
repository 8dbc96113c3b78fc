#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import WardenKernel
import WardenPolicy
import WardenRuntime

/// What `warden learn` prints and writes: the diff (stdout) or the patched copy
/// (`--output`), and the summary (stderr).
enum LearnOutput {
    /// How `output` names one of `policyFiles` (the same path, or the same file through a
    /// link), or nil when it is another file.
    static func clash(_ output: String, with policyFiles: [String]) -> String? {
        let cwd = HostFacts.currentDirectory()
        func absolute(_ p: String) -> String { PolicyPaths.normalize(p.hasPrefix("/") ? p : cwd + "/" + p) }
        let target = absolute(output)
        var st = stat()
        let targetID: (UInt, UInt)? = stat(target, &st) == 0 ? (UInt(st.st_dev), UInt(st.st_ino)) : nil
        for file in policyFiles {
            let path = absolute(file)
            if path == target { return "the policy file \(file)" }
            var s = stat()
            if let id = targetID, stat(path, &s) == 0, (UInt(s.st_dev), UInt(s.st_ino)) == id { return "the policy file \(file) (the same file)" }
        }
        return nil
    }

    /// The diff on stdout, or the patched copy at `output`.
    static func write(_ result: ProposalLint, file: String, output: String?) throws {
        guard let output else {
            print(result.patch.unifiedDiff(oldName: file, newName: file), terminator: "")
            return
        }
        let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else {
            printError("--output \(output): cannot open: \(String(cString: strerror(errno)))")
            throw ExitCode(2)
        }
        defer { close(fd) }
        let bytes = Array(result.patch.text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                printError("--output \(output): cannot write: \(String(cString: strerror(errno)))")
                throw ExitCode(2)
            }
            done += n
        }
    }

    /// The stderr summary: each run, the proposal's size, what was not proposed, lint.
    static func summary(runs: [LearnRunReport], lint: ProposalLint, settled: Bool, succeeded: Bool, policy: String) -> [String] {
        var out: [String] = []
        for r in runs {
            out.append("warden learn: run \(r.index) (\(r.runID)): exit \(r.exitCode), \(r.observed) observation\(r.observed == 1 ? "" : "s"), \(r.added) new rule\(r.added == 1 ? "" : "s")")
        }
        let p = lint.proposal
        out.append("warden learn: \(p.rules.count) proposed rule\(p.rules.count == 1 ? "" : "s"), \(p.notProposed.count) item\(p.notProposed.count == 1 ? "" : "s") not proposed")
        for item in p.notProposed.prefix(20) {
            out.append("  not proposed (\(TerminalText.escape(item.reason, maxScalars: 200))): \(TerminalText.escape(item.what, maxScalars: 200))")
        }
        if p.notProposed.count > 20 { out.append("  ... \(p.notProposed.count - 20) more, listed in the proposal's comments") }
        if p.overflow > 0 { out.append("  \(p.overflow) distinct accesses were not recorded (the runtime's table was full): learn again after applying this") }
        if lint.preexisting.isEmpty {
            out.append("warden learn: the patched policy is lint-clean")
        } else {
            out.append("warden learn: the proposal is lint-clean; the policy it patches has \(lint.preexisting.count) lint finding\(lint.preexisting.count == 1 ? "" : "s") of its own (run `warden lint \(TerminalText.escape(policy))`)")
        }
        if succeeded {
            out.append("warden learn: the last run succeeded under the proposal")
        } else if !settled {
            out.append("warden learn: still learning after \(runs.count) runs (the last one added rules); apply the proposal and learn again, or raise --max-runs")
        } else {
            out.append("warden learn: the last run still failed, and nothing more can be proposed; see the items not proposed")
        }
        return out
    }
}
