import Foundation

/// Shared helpers for CLI end-to-end tests: running programs with a chosen environment and
/// working directory, and scratch directories.
enum CLISupport {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `executable` and waits for it. Output goes through files, so a chatty child can
    /// never block on a full pipe while the other stream is being read.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    directory: String? = nil) throws -> Output {
        let dir = try makeTemporaryDirectory(prefix: "warden-cli-out")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outPath = dir + "/stdout", errPath = dir + "/stderr"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let environment { p.environment = environment }
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = out
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        try out.close()
        try err.close()
        let o = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Output(status: p.terminationStatus, stdout: o, stderr: e)
    }

    /// A new private directory under /tmp (mkdtemp), as a canonical path.
    static func makeTemporaryDirectory(prefix: String) throws -> String {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "/tmp/\(prefix).XXXXXX"])
        }
        return String(cString: made)
    }
}

extension WardenBinary {
    /// Runs the built binary with an explicit environment and working directory; nil (with a
    /// printed reason) when the binary has not been built.
    static func run(_ arguments: [String], environment: [String: String], directory: String) throws -> Result? {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            print("skip: \(path) not built (run `swift build` first)")
            return nil
        }
        let o = try CLISupport.run(path, arguments, environment: environment, directory: directory)
        return Result(status: o.status, stdout: o.stdout, stderr: o.stderr)
    }
}
