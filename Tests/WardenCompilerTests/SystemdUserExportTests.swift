import Testing
import WardenCompiler
import WardenKernel
import WardenPolicy

/// systemd exports: who the service runs as (DynamicUser= when systemd can make every
/// writable path for a transient user, User= when asked, else a comment saying why), the
/// hardening that takes nothing the policy allows, and `--portable` hiding.
@Suite struct SystemdUserExportTests {
    static let policy = """
    warden 1
    identity agent {
      allow fs read, exec "/usr"
      allow fs read, write "${workspace}"
      allow syscall read, write, exit_group
    }
    """

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func aWorkspaceUnderVarLibRunsAsADynamicUserWithItsStateDirectory() throws {
        let p = try effective(Self.policy)
        let (text, _) = SystemdExport.dropIn(p, bindings: PathBindings(workspace: "/var/lib/agent/ws", home: "/home/u", tmp: "/tmp"), listHost: false)
        let lines = Self.lines(text)
        #expect(lines.contains("DynamicUser=yes") && lines.contains("StateDirectory=agent/ws"), "\(text)")
        #expect(!lines.contains { $0.hasPrefix("User=") || $0.hasPrefix("ReadWritePaths=") }, "systemd makes the state directory writable")
        #expect(lines.contains("WorkingDirectory=/var/lib/agent/ws"))
        // /var/lib is not hidden whole: the state directory and systemd's private/ stay.
        #expect(!text.contains("-/var/lib ") && !text.contains("-/var/lib\n") && !text.contains("TemporaryFileSystem=/var"), "\(text)")
        #expect(!text.contains("BindPaths=-/var/lib"))
        for setting in ["RestrictSUIDSGID=yes", "PrivateMounts=yes", "RestrictRealtime=yes", "NoNewPrivileges=yes"] {
            #expect(lines.contains(setting), "\(setting)")
        }

        // A cache directory too.
        let cached = try effective(Self.policy + "\n" + "")
        let (both, _) = SystemdExport.dropIn(cached, bindings: PathBindings(workspace: "/var/cache/agent", home: "/home/u", tmp: "/tmp"), listHost: false)
        #expect(Self.lines(both).contains("CacheDirectory=agent"), "\(both)")
    }

    @Test func aWorkspaceElsewhereNeedsAFixedUser() throws {
        let p = try effective(Self.policy)
        let bindings = PathBindings(workspace: "/srv/agent", home: "/home/u", tmp: "/tmp")
        let (text, _) = SystemdExport.dropIn(p, bindings: bindings, listHost: false)
        #expect(!text.contains("\nDynamicUser=yes") && !text.contains("\nUser="), "\(text)")
        #expect(text.contains("# No User=: the service runs as root") && text.contains("/srv/agent is not"), "\(text)")
        #expect(text.contains("ReadWritePaths=-/srv/agent\n"))
        let (fixed, _) = SystemdExport.dropIn(p, bindings: bindings, listHost: false, user: .fixed(uid: 1000, gid: 100))
        #expect(fixed.contains("\nUser=1000\nGroup=100\n") && !fixed.contains("DynamicUser"), "\(fixed)")
        // Asked for a user, a /var/lib workspace keeps it (and its ReadWritePaths=).
        let (asked, _) = SystemdExport.dropIn(p, bindings: PathBindings(workspace: "/var/lib/a", home: "/home/u", tmp: "/tmp"),
                                              listHost: false, user: .fixed(uid: 7, gid: 7))
        #expect(asked.contains("User=7\n") && !asked.contains("DynamicUser=") && asked.contains("ReadWritePaths=-/var/lib/a\n"))
        // /var/lib itself, systemd's private/, and odd characters are not state directories.
        for workspace in ["/var/lib", "/var/lib/private/x", "/var/lib/a b", "/var/lib/100%"] {
            let (t, _) = SystemdExport.dropIn(p, bindings: PathBindings(workspace: workspace, home: "/home/u", tmp: "/tmp"), listHost: false)
            #expect(!t.contains("\nDynamicUser=yes") && t.contains("# No User="), "\(workspace)")
        }
    }

    @Test func capSysNiceKeepsRealtimeScheduling() throws {
        let p = try effective(Self.policy.replacingOccurrences(of: "exit_group\n", with: "exit_group\n  allow capability SYS_NICE\n"))
        let (text, _) = SystemdExport.dropIn(p, bindings: PathBindings(workspace: "/ws", home: "/h", tmp: "/tmp"), listHost: false)
        #expect(text.contains("AmbientCapabilities=CAP_SYS_NICE") && !text.contains("RestrictRealtime="), "\(text)")
    }

    @Test func portableOutputHidesTheStandardEntriesAndNothingOfThisHost() throws {
        let p = try effective(Self.policy)
        let (text, notes) = SystemdExport.dropIn(p, bindings: PathBindings(workspace: "/srv/agent", home: "/home/u", tmp: "/tmp"), listHost: false)
        // (`-/tmp -/var/tmp` is PrivateTmp='s: this identity has no ${tmp} grant.)
        var hidden: [String] = []
        for line in Self.lines(text) where line.hasPrefix("InaccessiblePaths=") {
            for path in line.dropFirst("InaccessiblePaths=".count).split(separator: " ") where path != "-/tmp" && path != "-/var/tmp" {
                hidden.append(String(path))
            }
        }
        for entry in ["-/opt", "-/root", "-/boot", "-/var/log", "-/var/lib", "-/home"] { #expect(hidden.contains(entry), "\(entry) in \(hidden)") }
        // Everything hidden is a standard name; allowed paths and their ancestors are not hidden.
        let standard = Set(["/", "/var"].flatMap { dir in (SystemdExport.standardEntries[dir] ?? []).map { (dir == "/" ? "" : dir) + "/" + $0 } })
        #expect(hidden.allSatisfy { standard.contains(String($0.dropFirst())) }, "\(hidden)")
        #expect(!hidden.contains("-/usr") && !hidden.contains("-/srv") && !hidden.contains("-/proc"))
        #expect(notes.contains { $0.kind == .weaker && $0.message.contains("standard top-level directories") })
    }
}
