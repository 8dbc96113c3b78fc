import WardenKernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes `warden: error: message` (or the bare message) to standard error. Control and
/// invisible characters are escaped on every line (`TerminalText`); line breaks and tabs
/// are kept, so a caller that puts untrusted text (a path, a name) in a message must pass
/// it through `shown(_:)` first, which escapes line breaks too. `escaping: false` is for
/// Warden's own terminal control sequences (resetting attributes), never for data.
func printError(_ message: String, prefix: Bool = true, newline: Bool = true, escaping: Bool = true) {
    let text = escaping ? escapedLines(message) : message
    let line = (prefix ? "warden: error: " : "") + text + (newline ? "\n" : "")
    var bytes = Array(line.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { break }
        offset += n
    }
}

/// Prints `text` to standard output with control and invisible characters escaped on every
/// line (line breaks and tabs kept), like `print` otherwise. For command output that
/// carries text from a policy, a path or an agent.
func printText(_ text: String, terminator: String = "\n") {
    print(escapedLines(text), terminator: terminator)
}

/// `text` (a path, a name, a value from a policy or an agent) escaped for a terminal,
/// line breaks included: for putting untrusted text into a message.
func shown(_ text: String) -> String { TerminalText.escape(text) }

/// Each line of `text` escaped, the line breaks between them kept.
private func escapedLines(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { TerminalText.escape(String($0), keepTabs: true) }
        .joined(separator: "\n")
}
