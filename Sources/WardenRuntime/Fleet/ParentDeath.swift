import CLauncher

/// The kernel's parent-death signal (`PR_SET_PDEATHSIG`) for the calling process.
public enum ParentDeath {
    /// Has the kernel send `signal` to this process when its parent dies; false on failure.
    @discardableResult
    public static func deliver(_ signal: Int32) -> Bool { warden_set_parent_death_signal(signal) == 0 }
}
