import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Writes a `git fast-import` stream to a file: one commit on a branch, from a base commit,
/// deleting and replacing paths with inline data. Git reads the file as data only; it never
/// opens a path of the workspace.
struct FastImportStream {
    private let fd: Int32
    private(set) var bytes = 0

    /// Creates `path` (which must not exist), mode 0600.
    init(path: String) throws(FleetError) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FleetError("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    func close() { _ = Glibc.close(fd) }

    mutating func commit(ref: String, base: String, message: String, time: Int64) throws(FleetError) {
        try write("commit \(ref)\ncommitter Warden <warden@localhost> \(time) +0000\n")
        try data(Array(message.utf8))
        try write("from \(base)\n")
    }

    mutating func delete(_ path: [UInt8]) throws(FleetError) {
        try write("D ")
        try write(ReviewPaths.fastImportQuoted(path) + [0x0A])
    }

    /// `mode` is `100644`, `100755` or `120000` (a link, whose target is `content`).
    mutating func modify(_ path: [UInt8], mode: String, content: [UInt8]) throws(FleetError) {
        try write("M \(mode) inline ")
        try write(ReviewPaths.fastImportQuoted(path) + [0x0A])
        try data(content)
    }

    mutating func done() throws(FleetError) { try write("done\n") }

    private mutating func data(_ content: [UInt8]) throws(FleetError) {
        try write("data \(content.count)\n")
        try write(content + [0x0A])
    }

    private mutating func write(_ text: String) throws(FleetError) { try write(Array(text.utf8)) }

    private mutating func write(_ chunk: [UInt8]) throws(FleetError) {
        var done = 0
        while done < chunk.count {
            let n = chunk.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw FleetError("cannot write the review's import stream: \(String(cString: strerror(errno)))") }
            done += n
        }
        bytes += chunk.count
    }
}
