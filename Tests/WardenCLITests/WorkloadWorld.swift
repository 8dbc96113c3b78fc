import Foundation
import WardenWorkloads

/// The operator's side of the workload matrix: prepared workload templates (each a scratch
/// git repository, prepared once per test run outside the sandbox and copied for each
/// cell), and the environment `warden run` is started with.
final class WorkloadWorld: @unchecked Sendable {
    /// `Tests/WardenCLITests/Workloads`: the fixtures (prepare.sh, run.sh, lib.sh).
    static let fixtures = WardenBinary.root + "/Tests/WardenCLITests/Workloads"
    /// The fake key in the operator's home; it must never reach the agent's output.
    static let fakeKey = "FAKE-WORKLOAD-KEY-7c211433f02071597741e6ff5a8ea34789abbf43"
    /// The PATH warden is started with: the Debian toolchains (and `~/.cargo/bin` in front
    /// when the fake home has rustup, see `environment(home:)`).
    static let basePath = "/usr/local/bin:/usr/bin:/bin"

    let root: String
    private let lock = NSLock()
    /// Workload name → template directory, or the reason it is skipped.
    private var prepared: [String: Result<String, SkipReason>] = [:]

    struct SkipReason: Error, CustomStringConvertible { var description: String }

    /// Under /var/tmp, not /tmp: the operator's home lives here too, and a run refuses to
    /// start when a granted home file sits under /tmp (the sandbox's /tmp is its own; the
    /// grant's bind mount fails with EINVAL, see the report of issue 14's matrix).
    init() throws {
        let base = FileManager.default.fileExists(atPath: "/var/tmp") ? "/var/tmp/" : NSTemporaryDirectory()
        root = base + "warden-workloads-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// The real home, whose rustup installation each fake home gets (see `installRust`).
    static var realHome: String { ProcessInfo.processInfo.environment["HOME"] ?? "/root" }

    /// A fresh operator home for one run: a git identity in `.gitconfig`, a fake SSH key,
    /// and the real home's rustup installation (see `installRust`).
    func makeHome(in dir: String) throws -> String {
        let home = dir + "/home"
        let fm = FileManager.default
        try fm.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
        try "[user]\n\tname = Operator\n\temail = operator@example.com\n".write(toFile: home + "/.gitconfig", atomically: false, encoding: .utf8)
        try (Self.fakeKey + "\n").write(toFile: home + "/.ssh/id_ed25519", atomically: false, encoding: .utf8)
        try installRust(into: home)
        return home
    }

    /// Puts rustup's `~/.cargo/bin` and default toolchain (bin, etc, lib, libexec: not its
    /// 50,000 files of documentation) from the real home into `home`, as hard links (`cp
    /// -al`: real files under the fake home, as a toolchain installed there is; a symbolic
    /// link would lead out of it), or copies when the link fails. Nothing when the real home
    /// has no rustup (then the rust row skips: cargo is not on PATH).
    func installRust(into home: String) throws {
        let real = Self.realHome
        guard let settings = try? String(contentsOfFile: real + "/.rustup/settings.toml", encoding: .utf8),
              let line = settings.split(separator: "\n").first(where: { $0.hasPrefix("default_toolchain") }),
              let toolchain = line.split(separator: "\"").dropFirst().first.map(String.init),
              FileManager.default.fileExists(atPath: real + "/.cargo/bin/cargo") else { return }
        let from = real + "/.rustup/toolchains/" + toolchain
        let to = home + "/.rustup/toolchains/" + toolchain
        try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home + "/.cargo", withIntermediateDirectories: true)
        try settings.write(toFile: home + "/.rustup/settings.toml", atomically: false, encoding: .utf8)
        // rustup's proxies create update-hashes/ when it is missing, and the toolchain is read-only.
        try FileManager.default.createDirectory(atPath: home + "/.rustup/update-hashes", withIntermediateDirectories: true)
        var pairs = [(real + "/.cargo/bin", home + "/.cargo/bin")]
        for sub in ["bin", "etc", "lib", "libexec"] where FileManager.default.fileExists(atPath: from + "/" + sub) {
            pairs.append((from + "/" + sub, to + "/" + sub))
        }
        for (src, dst) in pairs {
            if try CLISupport.run("/bin/cp", ["-al", src, dst]).status == 0 { continue }
            let copy = try CLISupport.run("/bin/cp", ["-a", src, dst])
            guard copy.status == 0 else { throw SkipReason(description: "cannot copy \(src) into the fake home: \(copy.stderr)") }
        }
    }

    /// The environment warden (and prepare.sh) runs with, for the fake `home`.
    func environment(home: String) -> [String: String] {
        var path = Self.basePath
        if FileManager.default.fileExists(atPath: home + "/.cargo/bin") { path = home + "/.cargo/bin:" + path }
        return ["PATH": path, "HOME": home, "LANG": "C.UTF-8"]
    }

    /// The template of `workload`, prepared on first use: nil tools on PATH or an exit 77 of
    /// prepare.sh skip it (with the reason); any other failure throws.
    func template(_ workload: Workload) throws -> Result<String, SkipReason> {
        lock.lock()
        defer { lock.unlock() }
        if let done = prepared[workload.name] { return done }
        let result = try prepare(workload)
        prepared[workload.name] = result
        return result
    }

    private func prepare(_ w: Workload) throws -> Result<String, SkipReason> {
        let dir = root + "/template-" + w.name
        let home = try makeHome(in: dir)
        let env = environment(home: home)
        let missing = w.tools.filter { WorkloadSupport.which($0, path: env["PATH"] ?? "") == nil }
        if !missing.isEmpty { return .failure(SkipReason(description: "not on PATH (\(env["PATH"] ?? "")): \(missing.joined(separator: ", "))")) }
        let ws = dir + "/ws"
        try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
        let p = try CLISupport.run("/bin/sh", [Self.fixtures + "/" + w.name + "/prepare.sh"], in: ws, environment: env)
        if p.status == 77 { return .failure(SkipReason(description: p.stdout.trimmingCharacters(in: .whitespacesAndNewlines))) }
        guard p.status == 0 else { throw SkipReason(description: "prepare.sh of \(w.name) failed (\(p.status)): \(p.stdout)\(p.stderr)") }
        // No automatic gc: a detached `git gc --auto` would repack while cells copy the
        // template. One pack instead of 20,000 loose objects makes each copy quick.
        let git = ["-c", "gc.auto=0", "-c", "user.name=Operator", "-c", "user.email=operator@example.com"]
        if !FileManager.default.fileExists(atPath: ws + "/.git") {
            _ = try CLISupport.run("/usr/bin/git", git + ["init", "-q", "-b", "main"], in: ws, environment: env)
        }
        _ = try CLISupport.run("/usr/bin/git", git + ["add", "-A"], in: ws, environment: env)
        let c = try CLISupport.run("/usr/bin/git", git + ["commit", "-q", "--allow-empty", "-m", "workload \(w.name)"], in: ws, environment: env)
        guard c.status == 0 else { throw SkipReason(description: "git commit of \(w.name)'s template failed: \(c.stderr)") }
        _ = try CLISupport.run("/usr/bin/git", ["repack", "-adq"], in: ws, environment: env)
        return .success(ws)
    }
}
