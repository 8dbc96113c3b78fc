import CCap

/// Linux capability names and numbers, through libcap.
public enum Capabilities {
    /// The canonical upper-case name (`CAP_NET_BIND_SERVICE`) for `name`, which may be
    /// written with or without the `CAP_` prefix, in any case; nil when unknown.
    public static func canonicalName(_ name: String) -> String? {
        guard let value = number(of: name), let canonical = self.name(of: value) else { return nil }
        return canonical
    }

    /// The capability number for `name` (with or without `CAP_`), or nil when unknown.
    public static func number(of name: String) -> Int32? {
        var lower = name.lowercased()
        if !lower.hasPrefix("cap_") { lower = "cap_" + lower }
        var value: cap_value_t = 0
        guard cap_from_name(lower, &value) == 0 else { return nil }
        // cap_from_name also accepts plain numbers; only names count here.
        guard lower.dropFirst(4).contains(where: { $0.isLetter }) else { return nil }
        return Int32(value)
    }

    /// The upper-case name of capability `number`, or nil when libcap does not know it.
    public static func name(of number: Int32) -> String? {
        guard number >= 0, number <= lastKnown, let c = cap_to_name(cap_value_t(number)) else { return nil }
        defer { cap_free(c) }
        let s = String(cString: c)
        return s.hasPrefix("cap_") ? s.uppercased() : nil
    }

    /// The highest capability number libcap knows by name.
    public static let lastKnown: Int32 = 40  // CAP_CHECKPOINT_RESTORE (Linux 5.9)

    /// Every capability name libcap knows, in number order.
    public static let all: [String] = (0...lastKnown).compactMap { name(of: $0) }
}
