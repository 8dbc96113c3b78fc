import Foundation
import Testing

/// An HTTP server (python3 -m http.server) outside the sandbox, serving `root` on 127.0.0.1.
private final class HostHTTPServer {
    let process = Process()
    let port: UInt16

    init(root: String) throws {
        port = try freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", root]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it accepts a connection (bounded wait, not a timing assertion).
        var tries = 0
        while !Self.accepts(port) && tries < 500 { tries += 1; usleep(20_000) }
    }

    static func accepts(_ port: UInt16) -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// SIGKILL: the test runner may hand its children an ignored SIGTERM.
    func stop() { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
}

/// A port that was free a moment ago on 127.0.0.1.
private func freePort() throws -> UInt16 {
    let s = try LoopbackServer("127.0.0.1", tag: "probe")
    let p = s.port
    s.stop()
    return p
}

private let pythonServer = #"""
import errno, os, socket, sys, threading
allowed, denied = int(sys.argv[1]), int(sys.argv[2])
def err(e): return errno.errorcode.get(e.errno, str(e.errno))
def bind(label, family, addr, listen=True):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(addr)
        if listen: s.listen(4)
        print(f"{label}=ok", flush=True); return s
    except OSError as e:
        print(f"{label}={err(e)}", flush=True); s.close(); return None
srv = bind("bind_allowed", socket.AF_INET, ("127.0.0.1", allowed))
def serve(sock):
    c, _ = sock.accept(); c.sendall(b"hi\n"); c.close()
if srv:
    threading.Thread(target=serve, args=(srv,), daemon=True).start()
    c = socket.create_connection(("127.0.0.1", allowed), timeout=10)
    print(f"loop={c.recv(16).decode().strip()}", flush=True); c.close()
bind("bind_any", socket.AF_INET, ("0.0.0.0", allowed))
bind("bind_denied", socket.AF_INET, ("127.0.0.1", denied))
bind("bind_v6_any", socket.AF_INET6, ("::", allowed))
e = bind("bind_ephemeral", socket.AF_INET, ("127.0.0.1", 0), listen=False)
try:
    e.listen(1); print("listen_ephemeral=ok", flush=True)
except OSError as ex:
    print(f"listen_ephemeral={err(ex)}", flush=True)
s = socket.socket()
try:
    s.listen(1); print("listen_unbound=ok", flush=True)
except OSError as e:
    print(f"listen_unbound={err(e)}", flush=True)
# Unix sockets: in the workspace (writable) they work; elsewhere and abstract they do not.
u = socket.socket(socket.AF_UNIX)
try:
    u.bind("ws.sock"); u.listen(1)
    threading.Thread(target=serve, args=(u,), daemon=True).start()
    c = socket.socket(socket.AF_UNIX); c.connect(os.path.abspath("ws.sock"))
    print(f"unix_ws={c.recv(16).decode().strip()}", flush=True)
except OSError as e:
    print(f"unix_ws={err(e)}", flush=True)
c = socket.socket(socket.AF_UNIX)
try:
    c.connect(sys.argv[3]); print("unix_outside=ok", flush=True)
except OSError as e:
    print(f"unix_outside={err(e)}", flush=True)
a = socket.socket(socket.AF_UNIX)
try:
    a.bind("\0warden-test-abstract"); print("unix_abstract=ok", flush=True)
except OSError as e:
    print(f"unix_abstract={err(e)}", flush=True)
"""#

@Suite("network mediation: real tools", .serialized)
struct NetworkToolsTests {
    @Test func curlGitAndPythonWorkWithoutProxySettings() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        for tool in ["/usr/bin/curl", "/usr/bin/git", "/usr/bin/python3"] where !FileManager.default.isExecutableFile(atPath: tool) {
            print("skip: \(tool) is not installed (scripts/setup.sh installs it)"); return
        }
        let dir = try NetFixture.tempDir("nettools")
        let site = try NetFixture.tempDir("netsite")
        try "served by the host\n".write(toFile: site + "/hello.txt", atomically: true, encoding: .utf8)
        // A bare repository served over dumb HTTP.
        let env = ["PATH": "/usr/bin:/bin", "HOME": site, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"]
        let src = site + "/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        try "content\n".write(toFile: src + "/file.txt", atomically: true, encoding: .utf8)
        for args in [["init", "-q", "-b", "main", src], ["-C", src, "add", "file.txt"], ["-C", src, "commit", "-q", "-m", "first"],
                     ["clone", "-q", "--bare", src, site + "/repo.git"], ["-C", site + "/repo.git", "update-server-info"]] {
            let (st, log) = try NetFixture.sh("/usr/bin/git", args, env: env)
            try #require(st == 0, "git \(args): \(log)")
        }
        let server = try HostHTTPServer(root: site)
        defer { server.stop() }
        let closed = try freePort()
        let policy = try NetFixture.policy("""
          allow net connect tcp "127.0.0.1:\(server.port)"
        """, in: dir)
        let workspaceEnv = ["HOME": dir]

        let (st1, out1, _) = try NetFixture.run(policy: policy, workspace: dir,
                                                ["/usr/bin/curl", "-sS", "http://127.0.0.1:\(server.port)/hello.txt"], env: workspaceEnv)
        #expect(st1 == 0 && out1.contains("served by the host"), "\(out1)")
        let (st2, out2, _) = try NetFixture.run(policy: policy, workspace: dir,
                                                ["/usr/bin/curl", "-sS", "http://127.0.0.1:\(closed)/hello.txt"], env: workspaceEnv)
        #expect(st2 == 7, "curl exits 7 (could not connect): \(out2)")

        let (st3, out3, _) = try NetFixture.run(policy: policy, workspace: dir,
                                                ["/usr/bin/git", "clone", "-q", "http://127.0.0.1:\(server.port)/repo.git", dir + "/clone"], env: workspaceEnv)
        #expect(st3 == 0, "\(out3)")
        #expect((try? String(contentsOfFile: dir + "/clone/file.txt", encoding: .utf8)) == "content\n")

        let script = "import urllib.request, sys; print('py=' + urllib.request.urlopen(sys.argv[1], timeout=20).read().decode().strip())"
        let (st4, out4, kv4) = try NetFixture.run(policy: policy, workspace: dir,
                                                  ["/usr/bin/python3", "-c", script, "http://127.0.0.1:\(server.port)/hello.txt"], env: workspaceEnv)
        #expect(st4 == 0 && kv4["py"] == "served by the host", "\(out4)")
    }

    @Test func bindAndListenOnlyWhereAllowed() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("netbind")
        let outside = try NetFixture.tempDir("netunix")
        // A unix socket outside the workspace, listening on the host.
        let ext = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var sa = sockaddr_un()
        sa.sun_family = sa_family_t(AF_UNIX)
        let path = outside + "/ext.sock"
        withUnsafeMutableBytes(of: &sa.sun_path) { buf in for (i, b) in path.utf8.enumerated() { buf[i] = b } }
        let bound = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(ext, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        try #require(bound == 0 && listen(ext, 4) == 0)
        defer { close(ext) }
        let allowed = try freePort()
        let denied = try freePort()
        let policy = try NetFixture.policy("""
          allow net bind tcp "127.0.0.1:\(allowed)"
          allow net connect tcp "127.0.0.1:\(allowed)"
        """, in: dir)
        try pythonServer.write(toFile: dir + "/server.py", atomically: true, encoding: .utf8)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir,
                                                   ["/usr/bin/python3", dir + "/server.py", "\(allowed)", "\(denied)", path])
        #expect(status == 0, "\(out)")
        #expect(kv["bind_allowed"] == "ok", "\(out)")
        #expect(kv["loop"] == "hi", "\(out)")
        #expect(kv["bind_any"] == "EACCES", "\(out)")
        // Loopback is the agent's own: a loopback port no rule names binds (OwnLoopbackTests).
        #expect(kv["bind_denied"] == "ok", "\(out)")
        #expect(kv["bind_v6_any"] == "EACCES", "\(out)")
        #expect(kv["listen_unbound"] == "EACCES", "\(out)")
        #expect(kv["bind_ephemeral"] == "ok", "\(out)")
        #expect(kv["listen_ephemeral"] == "ok", "\(out)") // on loopback: the agent's own
        #expect(kv["unix_ws"] == "hi", "\(out)")
        #expect(kv["unix_outside"] == "ENOENT", "\(out)") // not in the agent's world
        #expect(kv["unix_abstract"] == "EACCES", "\(out)")
    }
}
