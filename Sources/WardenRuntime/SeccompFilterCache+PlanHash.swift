import WardenAudit
import WardenCompiler

/// The SHA-256 of an identity's launch plan (`run.start`'s `plan_sha256`: the hash of
/// `warden compile --emit plan`'s JSON), kept in the compiled-filter cache so a repeat launch
/// does not encode the whole plan as JSON to hash it. The same trust rules as filters apply.
extension SeccompFilterCache {
    /// The plan's hash: a valid entry's when this exact input was hashed before, else
    /// `compute()`'s (then stored). `hit` says which.
    /// - Parameters:
    ///   - identity: the identity the plan is for.
    ///   - policyPaths: the policy files' paths as loaded (the plan's provenance names them).
    ///   - policy: the identity's seccomp policy (the compiler's input the plan embeds).
    public func planSHA256(identity: String, policyPaths: [String], policy: SeccompPolicy,
                           compute: () -> String) -> (hash: String, hit: Bool) {
        let key = planKey(identity: identity, policyPaths: policyPaths, policy: policy)
        let path = planEntryPath(key)
        let usable = prepareDirectory()
        if usable, let body = readEntry(path), let hash = Self.planHash(in: body, key: key) { return (hash, true) }
        let hash = compute()
        if usable { writeEntry(Array("key \(key)\nplan_sha256 \(hash)\n".utf8), to: path, key: key) }
        return (hash, false)
    }

    func planKey(identity: String, policyPaths: [String], policy: SeccompPolicy) -> String {
        var input = Array("plan\nidentity \(identity)\n".utf8)
        for path in policyPaths { input += Array("path \(path.utf8.count) \(path)\n".utf8) }
        return Digest.sha256Hex(salt + input + SeccompFilterArchive.compilerInput(policy))
    }

    func planEntryPath(_ key: String) -> String { directory + "/" + key + ".plan" }

    /// The hash in a plan entry's body, when the body is exactly `key KEY\nplan_sha256 HEX\n`.
    static func planHash(in body: [UInt8], key: String) -> String? {
        let lines = String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 3, lines[2].isEmpty, lines[0] == "key " + key, lines[1].hasPrefix("plan_sha256 ") else { return nil }
        let hash = lines[1].dropFirst("plan_sha256 ".count)
        guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return String(hash)
    }
}
