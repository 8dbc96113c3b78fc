import CLauncher
import WardenAudit
#if canImport(Glibc)
import Glibc
#endif

/// This Warden executable, as a cache must tell it apart from any other build: its GNU build
/// ID (read from its own program headers), else the executable file's device, inode, size and
/// modification time. The version string alone is not enough: every development build of a
/// version says the same, and a changed compiler must never be served an older build's output.
public enum WardenBuild {
    public static let identity: String = {
        var id = [UInt8](repeating: 0, count: 64)
        let length = Int(warden_build_id(&id, id.count))
        if length > 0 { return "build-id " + Hex.encode(id.prefix(length)) }
        var st = stat()
        guard stat("/proc/self/exe", &st) == 0 else { return "unknown executable \(getpid())-\(time(nil))" }
        return "executable \(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }()
}
