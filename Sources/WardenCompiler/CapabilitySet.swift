import WardenKernel

/// The five capability sets of a process, as capability numbers (see `Capabilities`).
/// The default is all empty: an agent gets no capabilities unless a policy grants them.
public struct CapabilitySet: Hashable, Sendable, Codable {
    public var bounding: Set<Int32>
    public var permitted: Set<Int32>
    public var effective: Set<Int32>
    public var inheritable: Set<Int32>
    public var ambient: Set<Int32>

    public init(bounding: Set<Int32> = [], permitted: Set<Int32> = [], effective: Set<Int32> = [],
                inheritable: Set<Int32> = [], ambient: Set<Int32> = []) {
        self.bounding = bounding
        self.permitted = permitted
        self.effective = effective
        self.inheritable = inheritable
        self.ambient = ambient
    }

    /// No capabilities at all.
    public static let empty = CapabilitySet()

    /// The sets an unprivileged-by-default agent needs to keep `granted` across `execve`
    /// (as a non-root user, capabilities survive exec only as ambient ones): each granted
    /// capability is in every set.
    public static func granting(_ granted: Set<Int32>) -> CapabilitySet {
        CapabilitySet(bounding: granted, permitted: granted, effective: granted, inheritable: granted, ambient: granted)
    }

    /// Checks the kernel's invariants: effective ⊆ permitted ⊆ bounding, ambient ⊆ permitted ∩
    /// inheritable, and every number is a capability libcap knows.
    public func validate() throws(CapabilitySetError) {
        for (name, set) in [("bounding", bounding), ("permitted", permitted), ("effective", effective),
                            ("inheritable", inheritable), ("ambient", ambient)] {
            if let bad = set.sorted().first(where: { Capabilities.name(of: $0) == nil }) {
                throw .unknownCapability(bad, set: name)
            }
        }
        if let c = effective.subtracting(permitted).min() { throw .notSubset(c, of: "permitted", set: "effective") }
        if let c = permitted.subtracting(bounding).min() { throw .notSubset(c, of: "bounding", set: "permitted") }
        if let c = ambient.subtracting(permitted.intersection(inheritable)).min() {
            throw .notSubset(c, of: "permitted and inheritable", set: "ambient")
        }
    }

    /// A set as the kernel's 64-bit mask (bit n = capability n).
    public static func mask(_ set: Set<Int32>) -> UInt64 {
        set.reduce(0) { $1 >= 0 && $1 < 64 ? $0 | (UInt64(1) << UInt64($1)) : $0 }
    }

    /// Capability names of a set, sorted by number.
    public static func names(_ set: Set<Int32>) -> [String] {
        set.sorted().map { Capabilities.name(of: $0) ?? "CAP_\($0)" }
    }
}

/// Why a `CapabilitySet` violates the kernel's rules.
public enum CapabilitySetError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownCapability(Int32, set: String)
    case notSubset(Int32, of: String, set: String)

    public var description: String {
        switch self {
        case .unknownCapability(let c, let s): return "capability number \(c) in the \(s) set is unknown to libcap"
        case .notSubset(let c, let of, let s):
            return "\(Capabilities.name(of: c) ?? "capability \(c)") is in the \(s) set but not in \(of); the kernel would refuse it"
        }
    }
}
