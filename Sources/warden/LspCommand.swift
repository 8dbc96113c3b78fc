import ArgumentParser
import WardenLanguageServer
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `warden lsp`: a language server for policy files on standard input and output.
struct LspCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsp",
        abstract: "Serve the Language Server Protocol on standard input and output (for editors).",
        discussion: """
            Speaks LSP 3.17 (JSON-RPC 2.0 with Content-Length framing): diagnostics from the checker and \
            lint as you type, formatting (`warden fmt`), hover, go to definition and completion. Includes \
            are read from disk unless the included file is open in the editor. See docs/editors.md. \
            Exit status: 0 after `shutdown` then `exit`; 1 on `exit` without `shutdown`, at the end of \
            input, or when the input is not LSP (a malformed header, a Content-Length over 8 MiB, a \
            truncated message), which is reported on standard error.
            """
    )

    func run() throws {
        // A client that goes away must end the server with an error, not kill it with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let status = LanguageServerLoop.run { message in printError("lsp: " + message) }
        if status != 0 { throw ExitCode(status) }
    }
}
