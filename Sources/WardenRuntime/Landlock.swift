/// Landlock filesystem rights (LANDLOCK_ACCESS_FS_*).
public struct LandlockAccess: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let execute = LandlockAccess(rawValue: 1 << 0)
    public static let writeFile = LandlockAccess(rawValue: 1 << 1)
    public static let readFile = LandlockAccess(rawValue: 1 << 2)
    public static let readDir = LandlockAccess(rawValue: 1 << 3)
    public static let removeDir = LandlockAccess(rawValue: 1 << 4)
    public static let removeFile = LandlockAccess(rawValue: 1 << 5)
    public static let makeChar = LandlockAccess(rawValue: 1 << 6)
    public static let makeDir = LandlockAccess(rawValue: 1 << 7)
    public static let makeReg = LandlockAccess(rawValue: 1 << 8)
    public static let makeSock = LandlockAccess(rawValue: 1 << 9)
    public static let makeFifo = LandlockAccess(rawValue: 1 << 10)
    public static let makeBlock = LandlockAccess(rawValue: 1 << 11)
    public static let makeSym = LandlockAccess(rawValue: 1 << 12)
    /// ABI 2.
    public static let refer = LandlockAccess(rawValue: 1 << 13)
    /// ABI 3.
    public static let truncate = LandlockAccess(rawValue: 1 << 14)
    /// ABI 5.
    public static let ioctlDev = LandlockAccess(rawValue: 1 << 15)

    public static let read: LandlockAccess = [.readFile, .readDir]
    public static let write: LandlockAccess = [.writeFile, .removeDir, .removeFile, .makeChar, .makeDir,
                                               .makeReg, .makeSock, .makeFifo, .makeBlock, .makeSym,
                                               .refer, .truncate]

    /// Every right the given ABI knows.
    public static func supported(abi: Int) -> LandlockAccess {
        guard abi >= 1 else { return [] }
        var m = LandlockAccess(rawValue: (1 << 13) - 1)
        if abi >= 2 { m.insert(.refer) }
        if abi >= 3 { m.insert(.truncate) }
        if abi >= 5 { m.insert(.ioctlDev) }
        return m
    }
}

/// A Landlock ruleset: rights the sandbox handles (denied unless a rule grants them) and
/// path-beneath rules. Rights the kernel's ABI does not know are dropped at launch.
public struct LandlockRuleset: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var path: String
        public var access: LandlockAccess
        public init(path: String, access: LandlockAccess) { self.path = path; self.access = access }
    }
    public var handled: LandlockAccess
    public var rules: [Rule]
    /// Log denials after the agent's execve to kernel audit (ABI 7), for the supervisor.
    public var logAfterExec = false
    public init(handled: LandlockAccess, rules: [Rule]) { self.handled = handled; self.rules = rules }
}
