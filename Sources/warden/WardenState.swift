#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where Warden keeps what outlives a command (fleets, manual triggers' workspaces):
/// `$WARDEN_STATE_DIR`, else `/var/lib/warden` for root, else `$XDG_STATE_HOME/warden`
/// (`$HOME/.local/state/warden`).
enum WardenState {
    static func directory() -> String {
        if let v = getenv("WARDEN_STATE_DIR"), v.pointee == 0x2F { return String(cString: v) }
        if getuid() == 0 { return "/var/lib/warden" }
        if let v = getenv("XDG_STATE_HOME"), v.pointee == 0x2F { return String(cString: v) + "/warden" }
        let home = getenv("HOME").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        return home + "/.local/state/warden"
    }

    /// Creates `path` and its missing parents (mode 0700).
    static func makeDirectories(_ path: String) throws(FleetError) {
        var current = path.hasPrefix("/") ? "" : "."
        for c in path.split(separator: "/") {
            current += "/" + c
            if mkdir(current, 0o700) != 0, errno != EEXIST { throw FleetError("cannot create \(current): \(String(cString: strerror(errno)))") }
        }
    }
}
