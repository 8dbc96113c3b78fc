import WardenAudit

/// Reads typed fields out of a parsed payload by dotted path, refusing (422) a field that
/// is present with the wrong type or shape. A missing field and JSON `null` both read as nil.
struct WebhookPayload {
    let root: AuditValue

    init(_ root: AuditValue) throws(WebhookRejection) {
        guard case .object = root else { throw .unprocessable("the payload is not a JSON object") }
        self.root = root
    }

    /// The value at `path` (`a.b.c`; object members only), nil when absent or null.
    func value(_ path: String) -> AuditValue? {
        var v = root
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = v[String(key)] else { return nil }
            v = next
        }
        // Not `v == .null ? nil : v`: AuditValue takes the nil literal, which would make `.some(.null)`.
        if case .null = v { return nil }
        return v
    }

    /// Whether `path` holds an object.
    func hasObject(_ path: String) -> Bool { value(path)?.objectValue != nil }

    /// The string at `path`, checked with `valid`; nil when absent or null.
    func string(_ path: String, _ what: String, valid: (String) -> Bool) throws(WebhookRejection) -> String? {
        guard let v = value(path) else { return nil }
        guard let s = v.stringValue else { throw .unprocessable("\(path) is not a string") }
        guard valid(s) else { throw .unprocessable("\(path) \(WebhookText.quote(s)) is not a valid \(what)") }
        return s
    }

    /// The string at `path`, which must be present.
    func required(_ path: String, _ what: String, valid: (String) -> Bool) throws(WebhookRejection) -> String {
        guard let s = try string(path, what, valid: valid) else { throw .unprocessable("the payload has no \(path)") }
        return s
    }

    /// The branch a full ref names (`refs/heads/X` -> X); nil for tags and other refs.
    func branch(ofRef path: String) throws(WebhookRejection) -> String? {
        let ref = try required(path, "ref", valid: { $0.utf8.count <= 300 && !$0.isEmpty })
        guard ref.hasPrefix("refs/heads/") else { return nil }
        let name = String(ref.dropFirst("refs/heads/".count))
        guard WebhookValues.isBranch(name) else { throw .unprocessable("\(path) \(WebhookText.quote(ref)) names an invalid branch") }
        return name
    }

    /// A commit id at `path`; nil when absent, null, or all zeros (a deleted branch).
    func commit(_ path: String) throws(WebhookRejection) -> String? {
        guard let c = try string(path, "commit id (40 or 64 lowercase hex)", valid: WebhookValues.isCommit) else { return nil }
        return WebhookValues.isZeroCommit(c) ? nil : c
    }
}
