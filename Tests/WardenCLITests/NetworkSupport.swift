import Foundation
import Testing

/// Loopback servers and a `warden run` driver for the network mediation tests. Every
/// address used is on 127.0.0.0/8 or ::1.
enum NetFixture {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let binary = packageRoot + "/.build/debug/warden"

    /// Why these tests cannot run here, or nil.
    static var skipReason: String? {
        if !FileManager.default.isExecutableFile(atPath: binary) { return "\(binary) not built" }
        if geteuid() != 0 { return "needs root (warden run)" }
        let actions = (try? String(contentsOfFile: "/proc/sys/kernel/seccomp/actions_avail", encoding: .utf8)) ?? ""
        if !actions.contains("user_notif") { return "no seccomp user notification" }
        return nil
    }

    static func tempDir(_ tag: String) throws -> String {
        let path = "/tmp/warden-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return path
    }

    /// Compiles Tests/RuntimeProbes/netprobe.c into `dir`.
    static func netprobe(in dir: String) throws -> String {
        let out = dir + "/netprobe"
        let (st, log) = try sh("/usr/bin/cc", ["-O1", "-pthread", "-o", out, packageRoot + "/Tests/RuntimeProbes/netprobe.c"])
        try #require(st == 0, "netprobe build failed: \(log)")
        return out
    }

    @discardableResult
    static func sh(_ path: String, _ args: [String], cwd: String? = nil, env: [String: String]? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if let env { p.environment = env }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A policy for identity `agent`: the toolchain, the workspace, and `rules`.
    static func policy(_ rules: String, in dir: String) throws -> String {
        let text = """
        warden 1
        identity agent {
          allow fs read, exec "/usr", "/bin", "/lib", "/lib64", "/sbin"
          allow fs read "/etc"
          allow fs read, write, exec "${workspace}"
          allow fs read, write "${tmp}"
          allow syscall @default
        \(rules)
          env pass PATH, HOME
          env set LANG = "C.UTF-8"
        }

        """
        let path = dir + "/policy.warden"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `warden run` of `command` in workspace `dir`; returns (status, stdout, stderr, key=value lines).
    static func run(policy: String, workspace dir: String, _ command: [String], env extra: [String: String] = [:])
        throws -> (Int32, String, [String: String]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["run", "--policy", policy, "--workspace", dir, "--audit-log", dir + ".audit.jsonl", "-q", "--"] + command
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = "/usr/bin:/bin"
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self) + String(decoding: errData, as: UTF8.self)
        var kv: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if let eq = line.firstIndex(of: "=") { kv[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
        }
        return (p.terminationStatus, text, kv)
    }

    /// The run's audit records (one JSON object per line).
    static func auditRecords(in dir: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: dir + ".audit.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

/// A TCP server on a loopback address that greets each client with `hello <tag>` and counts
/// accepted connections.
final class LoopbackServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    let tag: String
    private let lock = NSLock()
    private var accepted = 0
    private var thread: Thread?

    /// `host` is an IPv4 or IPv6 literal; `port` 0 picks a free port; `reusePort` sets
    /// SO_REUSEPORT (a group another socket of the same user could join).
    init(_ host: String, port: UInt16 = 0, tag: String, reusePort: Bool = false) throws {
        self.tag = tag
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound: UInt16 = try Self.bind(fd, host, port, v6)
        self.port = bound
        try #require(listen(fd, 512) == 0)
        let t = Thread { [self] in self.serve() }
        thread = t
        t.start()
    }

    static func bind(_ fd: Int32, _ host: String, _ port: UInt16, _ v6: Bool) throws -> UInt16 {
        if v6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &a.sin6_addr)
            let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            try #require(r == 0, "bind [\(host)]:\(port): errno \(errno)")
            var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
            _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            return UInt16(bigEndian: a.sin6_port)
        }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &a.sin_addr)
        let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(r == 0, "bind \(host):\(port): errno \(errno)")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: a.sin_port)
    }

    private func serve() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { if errno == EINTR || errno == ECONNABORTED { continue }; return }
            lock.lock(); accepted += 1; lock.unlock()
            let msg = Array("hello \(tag)\n".utf8)
            _ = msg.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            close(c)
        }
    }

    var acceptCount: Int { lock.lock(); defer { lock.unlock() }; return accepted }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

/// A UDP socket on a loopback address that counts the datagrams it received.
final class LoopbackUDP {
    let fd: Int32
    let port: UInt16

    init(_ host: String) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        try #require(fd >= 0)
        port = try LoopbackServer.bind(fd, host, 0, false)
    }

    /// Datagrams waiting now.
    func drain() -> Int {
        var n = 0
        var buf = [UInt8](repeating: 0, count: 2048)
        while recv(fd, &buf, buf.count, 0) >= 0 { n += 1 }
        return n
    }

    deinit { close(fd) }
}

/// A tiny authoritative DNS server on a loopback address for the tests: fixed A records,
/// NXDOMAIN for other names; counts the queries it saw per name.
final class TestResolver: @unchecked Sendable {
    let fd: Int32
    let host: String
    let port: UInt16
    let records: [String: [UInt8]]
    private let lock = NSLock()
    private var seen: [String: Int] = [:]

    init(_ host: String, records: [String: [UInt8]]) throws {
        self.host = host
        self.records = records
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        port = try LoopbackServer.bind(fd, host, 0, false)
        Thread { [self] in self.serve() }.start()
    }

    func queries(for name: String) -> Int { lock.lock(); defer { lock.unlock() }; return seen[name] ?? 0 }

    private func serve() {
        var buf = [UInt8](repeating: 0, count: 1500)
        while true {
            var from = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buf, buf.count, 0, $0, &len) } }
            if n < 0 { if errno == EINTR { continue }; return }
            guard n > 12 else { continue }
            var i = 12
            var labels: [String] = []
            while i < n, buf[i] != 0 { let l = Int(buf[i]); labels.append(String(decoding: buf[(i + 1)..<min(i + 1 + l, n)], as: UTF8.self)); i += 1 + l }
            i += 1
            guard i + 4 <= n else { continue }
            let qtype = Int(buf[i]) << 8 | Int(buf[i + 1])
            let name = labels.joined(separator: ".").lowercased()
            lock.lock(); seen[name, default: 0] += 1; lock.unlock()
            var reply = Array(buf[0..<(i + 4)])
            reply[2] = 0x84 | (buf[2] & 0x01) // QR, AA, RD echoed
            reply[3] = 0x80
            reply[6] = 0; reply[7] = 0; reply[8] = 0; reply[9] = 0; reply[10] = 0; reply[11] = 0
            if let a = records[name] {
                if qtype == 1 {
                    reply[7] = 1
                    reply += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4] + a
                }
            } else {
                reply[3] = 0x83 // NXDOMAIN
            }
            _ = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply, reply.count, 0, $0, len) } }
        }
    }
}
