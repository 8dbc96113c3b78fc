/// Named integer constants usable in syscall argument conditions (`AF_INET`, `CLONE_NEWUSER`, ...).
public enum NamedConstants {
    /// The value of `name`, or nil when unknown.
    public static func value(of name: String) -> UInt64? { NamedConstantData.table[name] }
    /// Every known constant name, sorted.
    public static var allNames: [String] { NamedConstantData.table.keys.sorted() }
}

/// errno names (`EPERM`, `ENOSYS`, ...) usable as a denial's return value.
public enum ErrnoNames {
    public static func value(of name: String) -> Int32? { NamedConstantData.errno[name] }
    public static func name(of value: Int32) -> String? {
        NamedConstantData.errno.first { $0.value == value }?.key
    }
}

enum NamedConstantData {
    static let table: [String: UInt64] = [
        "AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10,
    ]
    static let errno: [String: Int32] = [
        "EPERM": 1, "ENOENT": 2, "EACCES": 13, "ENOSYS": 38, "ECONNREFUSED": 111,
    ]
}
