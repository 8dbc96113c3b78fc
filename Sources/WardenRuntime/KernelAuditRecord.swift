/// One kernel audit record's text, parsed: `audit(SECONDS.MILLIS:SERIAL): key=value ...`.
///
/// Values are `"quoted"`, bare, or (for strings the kernel considers untrusted: spaces,
/// quotes, control or non-ASCII bytes) hex-encoded; `string(_:)` decodes both forms. Parsing
/// is bounded by the record's length (the kernel's records are at most ~8 KiB).
struct KernelAuditRecord: Equatable {
    /// Landlock denial (AUDIT_LANDLOCK_ACCESS).
    static let landlockAccess: Int32 = 1423
    /// The syscall in whose context earlier records of the same serial were written.
    static let syscall: Int32 = 1300

    var type: Int32
    /// The event serial shared by all records of one event.
    var serial: UInt64
    /// Raw values (still quoted or hex).
    var fields: [String: String]

    init?(type: Int32, text: String) {
        guard text.hasPrefix("audit("), let close = text.firstIndex(of: ")") else { return nil }
        let stamp = text[text.index(text.startIndex, offsetBy: 6)..<close]
        guard let colon = stamp.lastIndex(of: ":"), let serial = UInt64(stamp[stamp.index(after: colon)...]) else { return nil }
        self.type = type
        self.serial = serial
        var fields: [String: String] = [:]
        var rest = Substring(text[text.index(after: close)...])
        if rest.hasPrefix(":") { rest = rest.dropFirst() }
        while true {
            while rest.first == " " { rest = rest.dropFirst() }
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = String(rest[..<eq])
            rest = rest[rest.index(after: eq)...]
            var value: Substring
            if rest.first == "\"" {
                let body = rest.dropFirst()
                let end = body.firstIndex(of: "\"") ?? body.endIndex
                value = rest[rest.startIndex..<(end == body.endIndex ? end : body.index(after: end))]
                rest = end == body.endIndex ? body[end...] : body[body.index(after: end)...]
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                value = rest[..<end]
                rest = rest[end...]
            }
            if !key.isEmpty, !key.contains(" "), fields[key] == nil { fields[key] = String(value) }
        }
        self.fields = fields
    }

    /// The decoded string value of `key`: quotes removed, or hex decoded (nil when neither).
    func string(_ key: String) -> String? {
        guard let raw = fields[key] else { return nil }
        if raw.hasPrefix("\"") {
            return raw.count >= 2 && raw.hasSuffix("\"") ? String(raw.dropFirst().dropLast()) : nil
        }
        guard raw.utf8.count % 2 == 0, !raw.isEmpty else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.utf8.count / 2)
        var it = raw.utf8.makeIterator()
        while let hi = it.next(), let lo = it.next() {
            guard let h = Self.hex(hi), let l = Self.hex(lo) else { return nil }
            bytes.append(h << 4 | l)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func int(_ key: String) -> Int64? { fields[key].flatMap { Int64($0) } }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// The policy's access kind for Landlock blockers (`fs.read_file,fs.execute`): exec when
    /// execute is among them, else write for any modifying right, else read.
    static func access(blockers: String) -> String? {
        let list = blockers.split(separator: ",").map(String.init)
        guard list.allSatisfy({ $0.hasPrefix("fs.") }), !list.isEmpty else { return nil }
        if list.contains("fs.execute") { return "exec" }
        if list.contains(where: { $0 != "fs.read_file" && $0 != "fs.read_dir" }) { return "write" }
        return "read"
    }
}
