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
                    environment: [String: String]? = nil, input: String? = nil) throws -> Result? {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            print("skip: \(path) not built (run `swift build` first)")
            return nil
        }
        return try CLISupport.run(path, arguments, in: directory ?? root, environment: environment, input: input)
    }

    /// A fresh temporary directory.
    static func tempDir(_ tag: String = "cli") throws -> String {
        let dir = NSTemporaryDirectory() + "warden-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
