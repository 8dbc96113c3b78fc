/// One ref-update command of a git push.
public struct RefUpdate: Sendable, Equatable {
    public let old: String
    public let new: String
    public let ref: String

    public init(old: String, new: String, ref: String) {
        self.old = old
        self.new = new
        self.ref = ref
    }

    /// The new object id is all zeros: the push deletes the ref.
    public var isDeletion: Bool { new.allSatisfy { $0 == "0" } }
    /// The old object id is all zeros: the push creates the ref.
    public var isCreation: Bool { old.allSatisfy { $0 == "0" } }
}

/// The result of parsing the start of a `git-receive-pack` request body.
public enum ReceivePackParse: Sendable, Equatable {
    /// The command list is not complete yet (and still under the limit).
    case needMore
    /// The commands and the number of bytes up to and including their flush packet. What
    /// follows (push options when the `push-options` capability was sent, then the pack) is
    /// not examined.
    case commands([RefUpdate], consumed: Int)
    case invalid(String)
}

/// Parses the pkt-line command list at the start of a receive-pack body (protocol v0/v1),
/// up to its flush packet: `shallow <oid>` lines before the commands are skipped; each
/// command is `<old> SP <new> SP <ref>` (object ids of 40 or 64 lowercase hex digits, both
/// the same length), the first one followed by NUL and its capabilities; ref names must
/// pass ``RefNames``. A body that is only a flush (git's authentication probe) gives no
/// commands. Signed pushes (`push-cert`), delimiter and response-end packets, empty packets
/// and anything longer than `limit` bytes before the flush are invalid.
public func parseReceivePackCommands(_ body: [UInt8], limit: Int) -> ReceivePackParse {
    var offset = 0
    var updates: [RefUpdate] = []
    while true {
        guard offset + 4 <= body.count else { return body.count >= limit ? .invalid(tooLong(limit)) : .needMore }
        guard let length = pktLength(body[offset..<(offset + 4)]) else { return .invalid("malformed pkt-line length") }
        if length == 0 { return .commands(updates, consumed: offset + 4) }
        if length < 4 { return .invalid("unexpected special packet \(length) in the command list") }
        if length == 4 { return .invalid("empty pkt-line in the command list") }
        if length > 65520 { return .invalid("pkt-line longer than 65520 bytes") }
        guard offset + length <= limit else { return .invalid(tooLong(limit)) }
        guard offset + length <= body.count else { return .needMore }
        var payload = body[(offset + 4)..<(offset + length)]
        offset += length
        if payload.last == HTTPSyntax.lf { payload = payload.dropLast() }

        if payload.starts(with: "shallow ".utf8) {
            guard updates.isEmpty else { return .invalid("shallow line after a command") }
            guard isObjectID(payload.dropFirst(8)) else { return .invalid("shallow line without a valid object id") }
            continue
        }
        if payload.starts(with: "push-cert".utf8) { return .invalid("signed pushes (push-cert) are not supported") }

        var command = payload
        if let nul = payload.firstIndex(of: 0) {
            guard updates.isEmpty else { return .invalid("capabilities after the first command") }
            command = payload[payload.startIndex..<nul]
            let capabilities = payload[(nul + 1)...]
            guard capabilities.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .invalid("control byte in capabilities") }
        }
        let parts = command.split(separator: HTTPSyntax.space, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .invalid("command is not '<old> <new> <ref>'") }
        guard isObjectID(parts[0]), isObjectID(parts[1]), parts[0].count == parts[1].count else {
            return .invalid("command has an invalid object id")
        }
        guard let ref = HTTPSyntax.exactString(parts[2]) else { return .invalid("ref name is not UTF-8") }
        if let problem = RefNames.problem(with: ref) { return .invalid(problem) }
        updates.append(RefUpdate(old: String(decoding: parts[0], as: UTF8.self), new: String(decoding: parts[1], as: UTF8.self), ref: ref))
    }
}

private func tooLong(_ limit: Int) -> String { "push command list longer than \(limit) bytes" }

private func pktLength(_ bytes: ArraySlice<UInt8>) -> Int? {
    var value = 0
    for byte in bytes {
        guard let digit = HTTPSyntax.hexValue(byte) else { return nil }
        value = value * 16 + digit
    }
    return value
}

/// 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
private func isObjectID(_ bytes: ArraySlice<UInt8>) -> Bool {
    (bytes.count == 40 || bytes.count == 64)
        && bytes.allSatisfy { HTTPSyntax.isDigit($0) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
}
