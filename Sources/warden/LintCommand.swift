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
        discussion: "Exit status: 0 clean, 1 errors found (or warnings, with --strict), 2 usage or I/O error. A directory stands for the *.warden files in it. Suppress one lint finding with `# warden:ignore RULE-ID` on the line before it; see docs/lint.md."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, sarif, github
    }

    @Argument(help: "Policy files or directories.")
    var paths: [String] = []

    @Option(help: "Output format: text, json, sarif (SARIF 2.1.0) or github (workflow annotations).")
    var format: Format = .text

    @Flag(help: "Exit 1 on warnings too, not only on errors.")
    var strict = false

    @Flag(help: "List the lint rules (id, severity, rationale) and exit; honours --format json.")
    var listRules = false

    func validate() throws {
        if !listRules && paths.isEmpty { throw ValidationError("give at least one policy file or directory") }
    }

    func run() throws {
        if listRules {
            print(LintOutput.ruleList(json: format == .json), terminator: "")
            return
        }
        var ioFailed = false
        let (result, count) = LintRun.lint(paths) { message in
            ioFailed = true
            printError(message)
        }
        print(LintOutput.render(result, format: format.rawValue, root: HostFacts.currentDirectory()), terminator: "")
        if format == .text {
            printError("\(DiagnosticRenderer.summary(result.diagnostics)) in \(count) file\(count == 1 ? "" : "s")", prefix: false)
        }
        if ioFailed { throw ExitCode(2) }
        if result.diagnostics.hasErrors { throw ExitCode(1) }
        if strict, result.diagnostics.contains(where: { $0.severity == .warning }) { throw ExitCode(1) }
    }
}

/// Shared by `lint` and its extensions: expands paths and analyses each root policy.
enum LintRun {
    /// Diagnostics of every root (deduplicated, sorted), the sources they refer to, and
    /// how many files were read. `ioError` gets one message per unreadable path.
    static func collect(_ paths: [String], ioError: (String) -> Void)
        -> (diagnostics: [Diagnostic], sources: [String: SourceFile], fileCount: Int) {
        let loader = PolicyLoader()
        var all: [Diagnostic] = []
        var seen: Set<Diagnostic> = []
        var sources: [String: SourceFile] = [:]
        var roots: [String] = []
        for p in paths {
            if isDirectory(p) {
                let found = policyFiles(in: p)
                if found.isEmpty { ioError("\(p): no *.warden files in this directory") }
                roots += found
            } else {
                roots.append(p)
            }
        }
        for root in roots {
            do {
                let analysis = try loader.analyze(root)
                sources.merge(analysis.sources) { a, _ in a }
                for d in analysis.diagnostics where seen.insert(d).inserted { all.append(d) }
            } catch {
                ioError("\(error)")
            }
        }
        return (all.sortedForOutput(), sources, sources.count)
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

/// Writes `warden: error: message` (or the bare message) to standard error.
func printError(_ message: String, prefix: Bool = true, newline: Bool = true) {
    let line = (prefix ? "warden: error: " : "") + message + (newline ? "\n" : "")
    var bytes = Array(line.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { break }
        offset += n
    }
}
