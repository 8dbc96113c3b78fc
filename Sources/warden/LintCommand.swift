import ArgumentParser
import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `warden lint PATH...`: load, parse and check policies; print every diagnostic.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check policy files and report every problem with its location.",
        discussion: "Exit status: 0 clean, 1 errors found (or warnings, with --strict), 2 usage or I/O error (a path or include that is not a regular file, larger than 16 MiB, or unreadable). A directory stands for the *.warden files in it; `-` reads a policy from standard input (its includes resolve relative to the current directory). Suppress one lint finding with `# warden:ignore RULE-ID` on the line before it. A `.warden-lint.toml` found by walking up from each policy (to a directory holding .git) sets rules off, warning or error and ignores paths; see docs/lint.md."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, sarif, github
    }

    @Argument(help: "Policy files or directories (`-`: standard input).")
    var paths: [String] = []

    @Option(help: "Output format: text, json, sarif (SARIF 2.1.0) or github (workflow annotations).")
    var format: Format = .text

    @Flag(help: "Exit 1 on warnings too, not only on errors.")
    var strict = false

    @Flag(help: "List the lint rules (id, severity, rationale) and exit; honours --format json.")
    var listRules = false

    @Option(help: "Use this lint configuration for every policy instead of the `.warden-lint.toml` found above each one.")
    var config: String?

    @Flag(help: "Use no lint configuration file.")
    var noConfig = false

    func validate() throws {
        if !listRules && paths.isEmpty { throw ValidationError("give at least one policy file or directory") }
        if config != nil && noConfig { throw ValidationError("--config and --no-config cannot be used together") }
        if config == "" { throw ValidationError("--config: the path is empty") }
        if paths.filter({ $0 == StandardInputPolicy.argument }).count > 1 {
            throw ValidationError("`-` (standard input) can be given only once")
        }
    }

    func run() throws {
        if listRules {
            print(LintOutput.ruleList(json: format == .json), terminator: "")
            return
        }
        var ioFailed = false
        let mode: LintConfigLookup.Mode = noConfig ? .none : config.map { .file($0) } ?? .discover
        let (result, count) = LintRun.lint(paths, config: mode) { message in
            ioFailed = true
            printError(message)
        }
        print(LintOutput.render(result, format: format.rawValue, root: HostFacts.currentDirectory()), terminator: "")
        if format == .text {
            printError("\(DiagnosticRenderer.summary(result.diagnostics)) in \(count) file\(count == 1 ? "" : "s")", prefix: false)
        }
        if ioFailed || result.diagnostics.hasInputErrors { throw ExitCode(2) }
        if result.diagnostics.hasErrors { throw ExitCode(1) }
        if strict, result.diagnostics.contains(where: { $0.severity == .warning }) { throw ExitCode(1) }
    }
}

/// Shared by `lint` and `fmt`: expands directories to the policies in them.
enum LintRun {
    /// `paths` with each directory replaced by its `*.warden` files; `ioError` gets a
    /// message for a directory without any.
    static func expand(_ paths: [String], ioError: (String) -> Void) -> [String] {
        var files: [String] = []
        for p in paths {
            if isDirectory(p) {
                let found = policyFiles(in: p)
                if found.isEmpty { ioError("\(shown(p)): no *.warden files in this directory") }
                files += found
            } else {
                files.append(p)
            }
        }
        return files
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The `*.warden` files directly in `dir`, sorted.
    static func policyFiles(in dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".warden"), !name.hasPrefix(".") { names.append(name) }
        }
        let base = dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        return names.sorted().map { base + "/" + $0 }
    }
}
