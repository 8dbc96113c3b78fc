/// Named integer constants usable in syscall argument conditions (`AF_INET`, `CLONE_NEWUSER`, ...).
///
/// Values come from the C headers through Swift's Glibc module, or through the kernel UAPI
/// headers that `CSeccomp/shim.h` includes (CLONE_*, PR_*, personality, MFD_*, NETLINK_*),
/// which Glibc's module does not export. The few hand-typed values are listed in
/// `NamedConstantData.handTyped`, each because neither module exports the macro.
/// Negative constants (`AT_FDCWD`) are stored sign-extended to 64 bits.
public enum NamedConstants {
    /// The value of `name`, or nil when unknown.
    public static func value(of name: String) -> UInt64? { NamedConstantData.table[name] }
    /// Every known constant name, sorted.
    public static var allNames: [String] { NamedConstantData.table.keys.sorted() }
    /// The names whose values are typed by hand (not exported by any imported C module).
    public static var handTypedNames: [String] { NamedConstantData.handTyped.keys.sorted() }
}

/// errno names (`EPERM`, `ENOSYS`, ...) usable as a denial's return value, with Glibc's values.
public enum ErrnoNames {
    /// The value of `name` (`EPERM` → 1), or nil when unknown.
    public static func value(of name: String) -> Int32? { ErrnoData.byName[name] }
    /// The canonical name of `value` (`1` → `EPERM`), or nil when unknown. Aliases
    /// (`EWOULDBLOCK`, `EDEADLOCK`, `ENOTSUP`) are never returned here.
    public static func name(of value: Int32) -> String? { ErrnoData.byValue[value] }
    /// Every known errno name, sorted.
    public static var allNames: [String] { ErrnoData.byName.keys.sorted() }
}
