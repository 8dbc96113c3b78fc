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
    /// The command list, or what must follow it, is not complete yet (and still under the limit).
    case needMore
    /// The commands and the number of bytes up to and including their flush packet. It is
    /// returned only once what follows the flush is known to be well-formed (see
    /// ``parseReceivePackCommands(_:limit:bodyComplete:)``).
    case commands([RefUpdate], consumed: Int)
    case invalid(String)
}

/// Parses the pkt-line command list at the start of a receive-pack body (protocol v0/v1)
/// and checks what follows it. `shallow <oid>` lines before the commands are skipped; each
/// command is `<old> SP <new> SP <ref>` (object ids of 40 or 64 lowercase hex digits, both
/// the same length), the first one followed by NUL and its capabilities; ref names must
/// pass ``RefNames``. Signed pushes (`push-cert`), delimiter and response-end packets, empty
/// packets and anything longer than `limit` bytes before the pack are invalid.
///
/// After the commands' flush, exactly one of these must follow, else `.invalid`:
/// - when a pack follows (``GitSmartHTTP/packFollows(_:)``: some update is not a deletion):
///   if the first command's capabilities include `push-options`, a section of push-option
///   pkt-lines (printable ASCII) and its flush; then the pack signature `PACK`. The result
///   is `.needMore` until the 4 signature bytes are in `body`; nothing after them is examined;
/// - otherwise (an empty list, which is git's authentication probe, or deletions only):
///   nothing. A byte after the flush is `.invalid`; and while `bodyComplete` is false the
///   result is `.needMore`, because the rest of the body may still arrive. Pass
///   `bodyComplete: true` once `body` is the whole request body.
public func parseReceivePackCommands(_ body: [UInt8], limit: Int, bodyComplete: Bool) -> ReceivePackParse {
    var offset = 0
    var updates: [RefUpdate] = []
    var pushOptions = false
    // The command list.
    while true {
        switch nextPacket(body, at: offset, limit: limit) {
        case .needMore: return .needMore
        case .invalid(let why): return .invalid(why)
        case .flush:
            offset += 4
        case .data(var payload, let next):
            offset = next
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
                pushOptions = capabilities.split(separator: HTTPSyntax.space).contains { $0.elementsEqual("push-options".utf8) }
            }
            let parts = command.split(separator: HTTPSyntax.space, maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { return .invalid("command is not '<old> <new> <ref>'") }
            guard isObjectID(parts[0]), isObjectID(parts[1]), parts[0].count == parts[1].count else {
                return .invalid("command has an invalid object id")
            }
            guard let ref = HTTPSyntax.exactString(parts[2]) else { return .invalid("ref name is not UTF-8") }
            if let problem = RefNames.problem(with: ref) { return .invalid(problem) }
            updates.append(RefUpdate(old: String(decoding: parts[0], as: UTF8.self), new: String(decoding: parts[1], as: UTF8.self), ref: ref))
            continue
        }
        break
    }
    let commandsEnd = offset

    guard GitSmartHTTP.packFollows(updates) else {
        if body.count > commandsEnd {
            return .invalid(updates.isEmpty ? "bytes after an empty command list" : "bytes after a deletions-only command list (no pack may follow)")
        }
        return bodyComplete ? .commands(updates, consumed: commandsEnd) : .needMore
    }
    // Push options, when announced.
    if pushOptions {
        optionLoop: while true {
            switch nextPacket(body, at: offset, limit: limit) {
            case .needMore: return bodyComplete ? .invalid("body ends inside the push options") : .needMore
            case .invalid(let why): return .invalid(why)
            case .flush:
                offset += 4
                break optionLoop
            case .data(var payload, let next):
                offset = next
                if payload.last == HTTPSyntax.lf { payload = payload.dropLast() }
                guard payload.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .invalid("push option with a control or non-ASCII byte") }
            }
        }
    }
    // The pack signature.
    let signature = Array("PACK".utf8)
    let available = body[offset..<min(body.count, offset + 4)]
    guard signature.starts(with: available) else {
        return .invalid(pushOptions ? "something other than the pack after the push options" : "something other than the pack after the commands (push options were not announced)")
    }
    guard available.count == 4 else {
        if offset + 4 > limit { return .invalid(tooLong(limit)) }
        return bodyComplete ? .invalid("body ends before the pack") : .needMore
    }
    return .commands(updates, consumed: commandsEnd)
}

/// The same with the body not known to be complete (`bodyComplete: false`).
public func parseReceivePackCommands(_ body: [UInt8], limit: Int) -> ReceivePackParse {
    parseReceivePackCommands(body, limit: limit, bodyComplete: false)
}

/// One pkt-line at `offset`.
private enum Packet {
    case needMore
    case invalid(String)
    case flush
    case data(ArraySlice<UInt8>, next: Int)
}

private func nextPacket(_ body: [UInt8], at offset: Int, limit: Int) -> Packet {
    guard offset + 4 <= body.count else { return offset + 4 > limit ? .invalid(tooLong(limit)) : .needMore }
    guard let length = pktLength(body[offset..<(offset + 4)]) else { return .invalid("malformed pkt-line length") }
    if length == 0 { return .flush }
    if length < 4 { return .invalid("unexpected special packet \(length) in the command list") }
    if length == 4 { return .invalid("empty pkt-line in the command list") }
    if length > 65520 { return .invalid("pkt-line longer than 65520 bytes") }
    guard offset + length <= limit else { return .invalid(tooLong(limit)) }
    guard offset + length <= body.count else { return .needMore }
    return .data(body[(offset + 4)..<(offset + length)], next: offset + length)
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
