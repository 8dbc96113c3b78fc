#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a file could not be replaced.
enum AtomicWriteError: Error, CustomStringConvertible {
    case failed(path: String, step: String, errno: Int32)

    var description: String {
        switch self {
        case .failed(let path, let step, let e):
            return "\(path): cannot write (\(step)): \(String(cString: strerror(e)))"
        }
    }
}

/// Replaces a file's contents atomically: writes a temporary file in the same directory,
/// gives it the original file's permission bits, flushes it, then renames it over the
/// original. Readers see the old or the new contents, never a mix; on failure the
/// original is untouched and the temporary file removed.
enum AtomicFile {
    static func replace(_ given: String, with text: String) throws(AtomicWriteError) {
        // Write through a symbolic link to the file it names, keeping the link.
        var path = given
        if let real = realpath(given, nil) {
            path = String(cString: real)
            free(real)
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw .failed(path: path, step: "stat", errno: errno) }
        try store(path, text: text, mode: st.st_mode & 0o7777)
    }

    /// Creates or replaces the file at `path` (a link there is replaced, not followed) with
    /// `text` and permission bits `mode`, atomically and flushed.
    static func store(_ path: String, text: String, mode: mode_t) throws(AtomicWriteError) {
        try store(path, bytes: Array(text.utf8), mode: mode)
    }

    /// `store(_:text:mode:)` for bytes that need not be UTF-8.
    static func store(_ path: String, bytes: [UInt8], mode: mode_t) throws(AtomicWriteError) {
        let dir: String
        let name: String
        if let slash = path.lastIndex(of: "/") {
            dir = path[..<slash].isEmpty ? "/" : String(path[..<slash])
            name = String(path[path.index(after: slash)...])
        } else {
            dir = "."
            name = path
        }
        var template = Array("\(dir)/.\(name).tmp-XXXXXX".utf8CString)  // mkstemp's required suffix
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard fd >= 0 else { throw .failed(path: path, step: "create temporary file", errno: errno) }
        let tmp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd)
                throw .failed(path: path, step: "write", errno: e)
            }
            written += n
        }
        if fchmod(fd, mode) != 0 || fsync(fd) != 0 {
            let e = errno
            close(fd)
            throw .failed(path: path, step: "set mode and flush", errno: e)
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw .failed(path: path, step: "rename", errno: errno) }
        ok = true
    }
}
