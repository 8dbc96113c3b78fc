#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// IANA time zone names (`Europe/Berlin`), checked against the system's time zone
/// database in /usr/share/zoneinfo: the name must be a compiled zone file there (`TZif`).
public enum TimeZoneName {
    /// Where the database is read.
    public static let directory = "/usr/share/zoneinfo"

    /// Why `name` is not a known time zone (nil when it is).
    public static func problem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return "`\(name)` is not a time zone name" }
        let allowed = bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x2F || b == 0x5F || b == 0x2D || b == 0x2B
        }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard allowed, !name.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
              !parts.contains(where: { $0.hasPrefix("-") }) else {
            return "`\(name)` is not a time zone name"
        }
        if name == "UTC" || name == "Etc/UTC" { return nil }
        return isZoneFile(directory + "/" + name) ? nil : "unknown time zone `\(name)`"
    }

    /// Whether `path` is a regular file that starts with the TZif magic.
    static func isZoneFile(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
        return n == 4 && magic == Array("TZif".utf8)
    }
}
