import Foundation
import Testing
@testable import WardenRuntime

/// Paths and builds shared by the runtime tests.
enum Fixture {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let probeSources = packageRoot + "/Tests/RuntimeProbes"
    static let launcherSources = packageRoot + "/Sources/CLauncher"

    /// A fresh world-readable temporary directory.
    static func tempDir(_ tag: String = "rt") throws -> String {
        let path = NSTemporaryDirectory() + "warden-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return path
    }

    /// Runs a host tool; returns (status, stdout+stderr).
    @discardableResult
    static func sh(_ path: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The probe binary, compiled once per test process into a shared directory.
    static let probe: String? = {
        guard let dir = try? tempDir("probe") else { return nil }
        let out = dir + "/probe"
        guard let (st, log) = try? sh("/usr/bin/cc", ["-O1", "-o", out, probeSources + "/probe.c"]), st == 0 else {
            print("probe build failed")
            return nil
        }
        _ = log
        return out
    }()

    /// The C supervisor harness linked from the launcher's own sources.
    static let harness: String? = {
        guard let dir = try? tempDir("harness") else { return nil }
        let out = dir + "/harness"
        let sources = ["launcher.c", "init.c", "agent.c", "mounts.c", "landlock.c", "caps.c", "notify.c", "unix_helper.c"]
            .map { launcherSources + "/" + $0 }
        let args = ["-O1", "-I", launcherSources + "/include", "-I", launcherSources, "-o", out,
                    probeSources + "/harness.c"] + sources
        guard let (st, log) = try? sh("/usr/bin/cc", args), st == 0 else {
            print("harness build failed")
            return nil
        }
        _ = log
        return out
    }()
}

/// Runs `spec` with stdout captured into a file; returns the outcome and the output.
func runCapturing(_ spec: LaunchSpec, supervisor: Supervisor = Supervisor(timeout: .seconds(60)))
    throws -> (RunReport, [String: String], String) {
    let dir = try Fixture.tempDir("out")
    let path = dir + "/stdout"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    #expect(fd >= 0)
    var s = spec
    s.standardOutput = fd
    let report = supervisor.run(s)
    close(fd)
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    var kv: [String: String] = [:]
    for line in text.split(separator: "\n") {
        if let eq = line.firstIndex(of: "=") { kv[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
    }
    return (report, kv, text)
}

/// A sandbox with every namespace and a fresh /proc.
func isolated(_ args: [String], env: [String] = ["PATH=/usr/bin:/bin"]) -> LaunchSpec {
    LaunchSpec(arguments: args, environment: env, searchPath: "/usr/bin:/bin", workingDirectory: "/",
               namespaces: .all, mounts: [.proc()])
}

/// PIDs of host processes whose command line contains `token`.
func processes(containing token: String) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var found: [Int32] = []
    for e in entries {
        guard let pid = Int32(e), pid != getpid() else { continue }
        guard let data = FileManager.default.contents(atPath: "/proc/\(e)/cmdline") else { continue }
        if String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(token) { found.append(pid) }
    }
    return found
}

/// Waits (bounded, not a timing assertion) until `condition` holds; returns whether it did.
func eventually(upTo seconds: Double = 20, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
