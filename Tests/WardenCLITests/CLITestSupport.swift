import Foundation

/// Runs any program for the CLI end-to-end tests (`WardenBinary.run` uses it for warden;
/// the stock-policy tests use it for git and setpriv).
enum CLISupport {
    /// The records of the audit log at `log` as JSON objects (none when it is missing;
    /// lines that are not JSON objects are left out).
    static func auditRecords(_ log: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Runs `executable ARGUMENTS` in `directory` (default: the package root) with
    /// `environment` (default: inherited) and waits for it. Output goes through files, so a
    /// chatty child can never block on a full pipe.
    static func run(_ executable: String, _ arguments: [String], in directory: String? = nil,
                    environment: [String: String]? = nil, input: String? = nil) throws -> WardenBinary.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory ?? WardenBinary.root)
        if let environment { p.environment = environment }
        if let input {
            let pipe = Pipe()
            p.standardInput = pipe
            pipe.fileHandleForWriting.write(Data(input.utf8))  // small inputs only: fits the pipe buffer
            try pipe.fileHandleForWriting.close()
        } else {
            p.standardInput = FileHandle.nullDevice
        }
        let capture = try OutputCapture(attachedTo: p)
        defer { capture.remove() }
        try p.run()
        p.waitUntilExit()
        let (stdout, stderr) = try capture.read()
        return WardenBinary.Result(status: p.terminationStatus, stdout: stdout, stderr: stderr)
    }
}

/// A child's stdout and stderr through temporary files (never pipes, so a chatty child
/// cannot block on a full one): attach before `run()`, read after it exited, then remove.
struct OutputCapture {
    let base = NSTemporaryDirectory() + "warden-cli-out-\(UUID().uuidString)"
    let out: FileHandle
    let err: FileHandle

    init(attachedTo process: Process) throws {
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        out = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        err = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        process.standardOutput = out
        process.standardError = err
    }

    /// What the child wrote (closes the handles).
    func read() throws -> (stdout: String, stderr: String) {
        try out.close()
        try err.close()
        return ((try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: base + ".out")
        try? FileManager.default.removeItem(atPath: base + ".err")
    }
}
