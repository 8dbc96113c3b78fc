import Foundation
import Testing

/// Runs the built `warden` binary (built by `make test` before the tests run).
enum WardenBinary {
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
    static let path = root + "/.build/debug/warden"

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `warden ARGUMENTS` in `directory` (default: the package root) with `environment`
    /// (default: inherited). nil, with a printed reason, when the binary has not been built.
    static func run(_ arguments: [String], in directory: String? = nil,
                    environment: [String: String]? = nil) throws -> Result? {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            print("skip: \(path) not built (run `swift build` first)")
            return nil
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory ?? root)
        if let environment { p.environment = environment }
        // Files rather than pipes: a full pipe can never block the child.
        let base = NSTemporaryDirectory() + "warden-cli-out-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        p.standardOutput = out
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        try out.close()
        try err.close()
        return Result(status: p.terminationStatus,
                      stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    /// A fresh temporary directory.
    static func tempDir(_ tag: String = "cli") throws -> String {
        let dir = NSTemporaryDirectory() + "warden-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
