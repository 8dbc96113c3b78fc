#if canImport(Glibc)
import Glibc
#endif

/// Writing key and checkpoint files.
public enum AuditKeyFiles {
    /// Writes a new key pair: the private file with mode 0600, the public file with 0644.
    /// Refuses to overwrite existing files.
    public static func write(_ key: AuditSigningKey, privatePath: String, publicPath: String) throws(AuditError) {
        try FileIO.createNew(path: privatePath, bytes: Array(key.fileContents.utf8), mode: 0o600)
        try FileIO.createNew(path: publicPath, bytes: Array(key.publicKey.fileContents.utf8), mode: 0o644)
    }

    /// Creates a new file (never overwrites) with `contents`.
    public static func writeNew(path: String, contents: String, mode: UInt32) throws(AuditError) {
        try FileIO.createNew(path: path, bytes: Array(contents.utf8), mode: mode_t(mode))
    }
}

/// Read-side helpers on a log file.
public enum AuditLogFile {
    /// The last checkpoint line of the log (without newline), or nil if there is none.
    public static func lastCheckpointLine(path: String) throws(AuditError) -> [UInt8]? {
        let fd = try FileIO.openRegular(path, flags: O_RDONLY, what: "audit log")
        defer { close(fd) }
        var reader = LineReader(fd: fd, path: path)
        defer { reader.deallocate() }
        var last: [UInt8]?
        while try reader.next({ (line, _, newline) throws(AuditError) in
            if newline, let h = RecordHeader.scan(line), RecordHeader.equals(line, h.kind, "checkpoint") {
                last = Array(line)
            }
        }) {}
        return last
    }
}
