import ArgumentParser
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
            Without flags the formatted text goes to standard output (with a `==> FILE <==` line before each \
            file when there are several). A directory stands for the *.warden files in it; `-` reads standard \
            input (for editors; not with --write). A file that does not \
            parse is never formatted or written: its errors are printed. Exit status: 0 ok; 1 a file has syntax \
            errors, or (with --check) would change; 2 usage or I/O error.
            """
    )

    @Argument(help: "Policy files or directories.")
    var paths: [String]

    @Flag(help: "Rewrite files in place (atomically, keeping their permissions).")
    var write = false

    @Flag(help: "Write nothing; list the files that are not formatted and exit 1 if there are any.")
    var check = false

    func validate() throws {
        if write && check { throw ValidationError("--write and --check cannot be used together") }
        if write && paths.contains("-") { throw ValidationError("--write cannot rewrite standard input (`-`)") }
    }

    func run() throws {
        var ioFailed = false
        var failed = false
        var files: [String] = []
        for p in paths {
            if p == "-" {
                files.append(p)
            } else if LintRun.isDirectory(p) {
                let found = LintRun.policyFiles(in: p)
                if found.isEmpty {
                    printError("\(p): no *.warden files in this directory")
                    ioFailed = true
                }
                files += found
            } else {
                files.append(p)
            }
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
                printError("\(path): not formatted: fix the syntax errors first")
                failed = true
                continue
            } catch .contentMismatch(let detail) {
                printError("\(path): not formatted: internal formatter error (\(detail)); please report it")
                failed = true
                continue
            }
            if check {
                if formatted != text {
                    print(path)
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
                if files.count > 1 { print("==> \(path) <==") }
                print(formatted, terminator: "")
            }
        }
        if ioFailed { throw ExitCode(2) }
        if failed { throw ExitCode(1) }
    }
}

/// All of standard input as UTF-8 text.
func readStandardInput() throws(SourceProviderError) -> String {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw .unreadable(path: "<stdin>", reason: String(cString: strerror(errno)))
        }
        if n == 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw .notUTF8(path: "<stdin>") }
    return text
}
