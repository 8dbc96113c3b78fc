import ArgumentParser
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `warden fmt PATH... [--write] [--check]`: print policies in the canonical layout.
struct FmtCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fmt",
        abstract: "Print policy files in the canonical layout (or rewrite them, or check them).",
        discussion: """
            --diff prints a unified diff (`diff -u` style) of what formatting would change. \
            Without flags the formatted text goes to standard output (with a `==> FILE <==` line before each \
            file when there are several). A directory stands for the *.warden files in it; `-` reads standard \
            input (for editors; not with --write). A file that does not \
            parse is never formatted or written: its errors are printed. Exit status: 0 ok; 1 a file has syntax \
            errors, or (with --check or --diff) would change; 2 usage or I/O error.
            """
    )

    @Argument(help: "Policy files or directories.")
    var paths: [String]

    @Flag(help: "Rewrite files in place (atomically, keeping their permissions).")
    var write = false

    @Flag(help: "Write nothing; list the files that are not formatted and exit 1 if there are any.")
    var check = false

    @Flag(help: "Write nothing; print a unified diff of what formatting would change and exit 1 if it would change anything.")
    var diff = false

    func validate() throws {
        if [write, check, diff].filter({ $0 }).count > 1 { throw ValidationError("--write, --check and --diff cannot be used together") }
        if write && paths.contains("-") { throw ValidationError("--write cannot rewrite standard input (`-`)") }
    }

    func run() throws {
        var ioFailed = false
        var failed = false
        let files = LintRun.expand(paths) { message in
            printError(message)
            ioFailed = true
        }
        let provider = FileSystemSourceProvider()
        for path in files {
            let text: String
            do {
                text = path == "-" ? try readStandardInput() : try provider.read(path)
            } catch {
                printError("\(error)")
                ioFailed = true
                continue
            }
            let source = SourceFile(path: path, text: text)
            let formatted: String
            do {
                formatted = try PolicyFormatter.format(source)
            } catch .syntaxErrors(let diagnostics) {
                var rendered = DiagnosticRenderer.text(diagnostics, sources: [path: source])
                if rendered.hasSuffix("\n") { rendered.removeLast() }
                printError(rendered, prefix: false)
                printError("\(shown(StandardInputPolicy.loaderPath(path))): not formatted: fix the syntax errors first")
                failed = true
                continue
            } catch .contentMismatch(let detail) {
                printError("\(shown(path)): not formatted: internal formatter error (\(detail)); please report it")
                failed = true
                continue
            }
            if diff {
                let name = path == "-" ? StandardInputPolicy.path : path
                let patch = UnifiedDiff.render(old: text, new: formatted, oldName: name, newName: name + " (formatted)")
                if !patch.isEmpty {
                    printText(patch, terminator: "")
                    failed = true
                }
            } else if check {
                if formatted != text {
                    print(shown(path))
                    failed = true
                }
            } else if write {
                guard formatted != text else { continue }
                do {
                    try AtomicFile.replace(path, with: formatted)
                } catch {
                    printError("\(error)")
                    ioFailed = true
                }
            } else {
                if files.count > 1 { print("==> \(shown(path)) <==") }
                print(formatted, terminator: "")
            }
        }
        if ioFailed { throw ExitCode(2) }
        if failed { throw ExitCode(1) }
    }
}
