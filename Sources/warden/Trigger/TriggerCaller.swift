import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Who asks `warden trigger` to start an agent: the real user of the process, or, when
/// root runs it on behalf of another user through sudo (`SUDO_UID`, `SUDO_GID`), that user.
/// Only root's `SUDO_UID` is believed: any other user's real uid is what the kernel says.
struct TriggerCaller: Equatable {
    var uid: uid_t
    var gid: gid_t
    var name: String
    var groups: [String]
    /// The caller is not the user Warden runs as (root through sudo): the policy and the
    /// audit log must then be the operator's, never the caller's choice.
    var delegated: Bool

    var localUser: TriggerEvent.LocalUser { .init(uid: uid, gid: gid, name: name, groups: groups) }

    static func current() throws(FleetError) -> TriggerCaller {
        var uid = getuid()
        var gid = getgid()
        var delegated = false
        if uid == 0, let sudoUID = environment("SUDO_UID").flatMap({ UInt32($0) }), sudoUID != 0 {
            uid = sudoUID
            gid = environment("SUDO_GID").flatMap { UInt32($0) } ?? gid
            delegated = true
        }
        guard let pw = getpwuid(uid), let namePointer = pw.pointee.pw_name else {
            throw FleetError("user id \(uid) has no entry in the user database")
        }
        let name = String(cString: namePointer)
        if delegated { gid = pw.pointee.pw_gid }
        return TriggerCaller(uid: uid, gid: gid, name: name, groups: groupNames(user: namePointer, gid: gid), delegated: delegated)
    }

    private static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// The names of every group of `user` (its primary group `gid` included), from NSS.
    private static func groupNames(user: UnsafePointer<CChar>, gid: gid_t) -> [String] {
        var count: Int32 = 64
        var ids = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, gid, &ids, &count) < 0 {
            ids = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(user, gid, &ids, &count)
        }
        var names: [String] = []
        for id in ids.prefix(Int(max(count, 0))) {
            if let gr = getgrgid(id), let n = gr.pointee.gr_name { names.append(String(cString: n)) }
        }
        return Array(Set(names)).sorted()
    }
}

/// Refuses a policy a delegated caller could have written: every file of the policy and
/// every directory above it must belong to root (or to the user Warden runs as) and be
/// writable by nobody else, like sudoers (a sticky directory such as /tmp may be, since no
/// one else can then replace what root owns in it). Otherwise the caller could write a
/// trigger that lets them start anything.
enum TrustedPolicyFiles {
    /// Checks every file (relative paths are taken from the current directory), as written
    /// and with its links resolved: a link the caller could change would let them swap
    /// the file after it was checked.
    static func check(_ paths: [String]) throws(FleetError) {
        for path in paths {
            let given = HostFacts.absolute(path)
            try checkChain(given)
            if let real = realpath(given, nil) {
                let resolved = String(cString: real)
                free(real)
                if resolved != given { try checkChain(resolved) }
            }
        }
    }

    /// `path` and every directory above it: root's (or Warden's user's), writable by no one
    /// else unless a sticky directory.
    private static func checkChain(_ path: String) throws(FleetError) {
        var current = path
        var isFile = true
        while true {
            var st = stat()
            guard lstat(current, &st) == 0 else { throw FleetError("\(current): \(String(cString: strerror(errno)))") }
            let ownerOK = st.st_uid == 0 || st.st_uid == geteuid()
            let sticky = !isFile && (st.st_mode & S_IFMT) == S_IFDIR && st.st_mode & S_ISVTX != 0
            let isLink = (st.st_mode & S_IFMT) == S_IFLNK
            isFile = false
            guard ownerOK, isLink || st.st_mode & 0o022 == 0 || sticky else {
                throw FleetError("\(current) can be changed by a user other than root: a policy started through sudo must be the operator's (root's, in directories only root can write)")
            }
            if current == "/" { break }
            guard let slash = current.lastIndex(of: "/") else { break }
            current = slash == current.startIndex ? "/" : String(current[..<slash])
        }
    }
}
