#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Minimal whole-file helpers over POSIX calls (no Foundation).
enum FileIO {
    static func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }

    /// Reads a whole (small) file.
    static func read(path: String, limit: Int = 1 << 20) throws(AuditError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", message: errnoText(errno)) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", message: errnoText(errno))
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw .io(path: path, operation: "read", message: "file larger than \(limit) bytes") }
        }
        return out
    }

    /// Creates a new file with `mode` (fails if it exists) and writes `bytes`, then fsyncs.
    static func createNew(path: String, bytes: [UInt8], mode: mode_t) throws(AuditError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(path: path, operation: "create", message: errnoText(errno)) }
        defer { close(fd) }
        fchmod(fd, mode)
        try writeAll(fd: fd, bytes: bytes, path: path)
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", message: errnoText(errno)) }
    }

    static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws(AuditError) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", message: errnoText(errno))
            }
            off += n
        }
    }
}
