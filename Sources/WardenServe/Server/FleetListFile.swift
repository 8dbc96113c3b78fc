import WardenKernel
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Reads a fleet trigger's repository list (`fleet "PATH"`) at each firing: an operator
/// file, so it must be one only the operator can change. The file and every directory above
/// it belong to root or the server's user and are writable by no one else (a sticky
/// directory such as /tmp excepted); the file is opened without following a link and read
/// from that descriptor, at most `FleetRepositoryList.maxBytes`. Relative local entries are
/// taken from the list's directory.
enum FleetListFile {
    static func read(_ path: String) throws(FleetListError) -> [FleetRepository] {
        func fail(_ why: String) -> FleetListError { FleetListError(description: "fleet list \(TerminalText.escape(path)): \(why)") }
        guard path.hasPrefix("/") else { throw fail("not an absolute path") }
        var directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if directory.isEmpty { directory = "/" }
        // The directories first: a writable one would let someone swap the file after the check.
        var current = directory
        while true {
            var st = stat()
            guard lstat(current, &st) == 0 else { throw fail("\(TerminalText.escape(current)): \(String(cString: strerror(errno)))") }
            let sticky = (st.st_mode & S_IFMT) == S_IFDIR && st.st_mode & S_ISVTX != 0
            guard (st.st_mode & S_IFMT) == S_IFDIR || (st.st_mode & S_IFMT) == S_IFLNK else { throw fail("\(TerminalText.escape(current)) is not a directory") }
            guard st.st_uid == 0 || st.st_uid == geteuid(), (st.st_mode & S_IFMT) == S_IFLNK || st.st_mode & 0o022 == 0 || sticky else {
                throw fail("directory \(TerminalText.escape(current)) can be changed by a user other than root or the server's: keep the list where only they can write")
            }
            if current == "/" { break }
            let parent = String(current[..<(current.lastIndex(of: "/") ?? current.startIndex)])
            current = parent.isEmpty ? "/" : parent
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw fail(errno == ELOOP ? "is a symbolic link; name the file itself" : String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail(String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw fail("not a regular file") }
        guard st.st_uid == 0 || st.st_uid == geteuid(), st.st_mode & 0o022 == 0 else {
            throw fail("can be changed by a user other than root or the server's (chmod go-w, and chown it)")
        }
        let bytes: [UInt8]
        do { bytes = try BoundedFileReader.readAll(fd, limit: FleetRepositoryList.maxBytes, expected: Int(st.st_size)) } catch {
            throw fail("\(error)")
        }
        do { return try FleetRepositoryList.parse(String(decoding: bytes, as: UTF8.self), baseDirectory: directory) } catch {
            throw fail(error.description)
        }
    }
}
