#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a `LanguageServer` over file descriptors (standard input and output for
/// `warden lsp`).
public enum LanguageServerLoop {
    /// Serves until `exit`, the end of input, or a broken stream; returns the process
    /// status: 0 after `shutdown` + `exit`, 1 otherwise. `report` gets one line per
    /// problem (for standard error; the caller escapes it for a terminal).
    public static func run(input: Int32 = 0, output: Int32 = 1, report: (String) -> Void) -> Int32 {
        var reader = MessageReader(readChunk: { readChunk(input) })
        var server = LanguageServer()
        while true {
            switch reader.next() {
            case .endOfInput:
                if !server.shutdownRequested { report("input ended without shutdown and exit") }
                return server.shutdownRequested ? 0 : 1
            case .failed(let error):
                report("cannot read the client's messages: \(error)")
                return 1
            case .message(let body):
                let replies = server.handle(body: body)
                for line in server.takeLog() { report(line) }
                for reply in replies {
                    guard writeAll(output, MessageWriter.frame(reply)) else {
                        report("cannot write to the client: \(String(cString: strerror(errno)))")
                        return 1
                    }
                }
                if let code = server.exitCode { return code }
            }
        }
    }

    /// Up to 64 KiB from `fd`; empty at end of input or on an error other than EINTR.
    static func readChunk(_ fd: Int32) -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return [] }
            return Array(chunk[0..<n])
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return false }
            written += n
        }
        return true
    }
}
