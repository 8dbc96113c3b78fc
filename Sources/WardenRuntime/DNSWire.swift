/// The DNS wire format's building blocks (RFC 1035 §3.1, §4.1.4): domain names, and a
/// bounds-checked reader and a writer for messages. Nothing here trusts a length, count or
/// pointer it reads: every read is checked against the message, a name is at most 255 bytes
/// on the wire, and a compression pointer must point strictly backwards (at most 16 of them
/// in one name), so reading a name terminates after at most 128 labels and 16 pointers.
struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The labels as they were on the wire (case kept), root label excluded.
    var labels: [[UInt8]]

    init(labels: [[UInt8]]) { self.labels = labels }

    /// A name from dotted text (`api.example.org`); for tests and built-in names.
    init(_ text: String) {
        labels = text.split(separator: ".").map { Array($0.utf8) }
    }

    /// Bytes on the wire, uncompressed: a length byte per label, the label, the root byte.
    var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// The labels with ASCII letters lower-cased (DNS compares names case-insensitively).
    var folded: [[UInt8]] { labels.map { $0.map(Self.fold) } }

    /// Whether every label is a hostname label: letters, digits, `-` and `_` (the last for
    /// service names such as `_sip._tcp`), at least one label. Only such names are looked
    /// up: a label holding a dot, a NUL or any other byte matches no rule.
    var isHostname: Bool {
        !labels.isEmpty && labels.allSatisfy { !$0.isEmpty && $0.allSatisfy(Self.isHostnameByte) }
    }

    /// Lower-cased presentation text (RFC 1035 §5.1): labels joined by dots, and every byte
    /// that is not a hostname byte written `\DDD` (a dot inside a label `\.`), so the text
    /// names exactly one wire name and holds no control characters. The root is `.`.
    /// For a hostname this is the plain dotted name the policy's rules are written in, and
    /// since its labels hold no dots, matching rules on it is matching label by label.
    var text: String {
        if labels.isEmpty { return "." }
        var out = ""
        for (i, label) in folded.enumerated() {
            if i > 0 { out += "." }
            for b in label {
                if Self.isHostnameByte(b) { out.unicodeScalars.append(Unicode.Scalar(b)) }
                else if b == UInt8(ascii: ".") || b == UInt8(ascii: "\\") { out += "\\" + String(Unicode.Scalar(b)) }
                else { out += "\\" + String(repeating: "0", count: b < 10 ? 2 : b < 100 ? 1 : 0) + String(b) }
            }
        }
        return out
    }

    var description: String { text }

    /// Same name, ignoring ASCII case.
    func sameName(as other: DNSName) -> Bool { folded == other.folded }

    static func fold(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    static func isHostnameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): return true
        default: return false
        }
    }
}

/// Why bytes are not a well-formed DNS message.
enum DNSWireError: Error, Equatable, CustomStringConvertible {
    case truncated
    case compressedName
    case badPointer
    case badLabelType(UInt8)
    case nameTooLong

    var description: String {
        switch self {
        case .truncated: return "message ends early"
        case .compressedName: return "compressed name in a query"
        case .badPointer: return "compression pointer that does not point backwards, or too many of them"
        case .badLabelType(let b): return "label type 0x\(String(b >> 6, radix: 16)) (only plain labels)"
        case .nameTooLong: return "name longer than 255 bytes"
        }
    }
}

/// Reads a DNS message from the front, checking every access.
struct DNSReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// Labels and pointers followed so far: the parser's work, which the fuzz test bounds.
    private(set) var steps = 0

    init(_ bytes: [UInt8], at offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(DNSWireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSWireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSWireError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        defer { offset += 4 }
        return bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func take(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// Pointers followed in one name at most (each costs a step; names in real answers
    /// need one or two).
    static let maxPointers = 16

    /// A name at the current offset. With `compressed` false a pointer is an error (queries
    /// have nothing to point at but their own header); with it, pointers are followed,
    /// each strictly backwards of the label sequence holding it.
    mutating func name(compressed: Bool) throws(DNSWireError) -> DNSName {
        var labels: [[UInt8]] = []
        var length = 1
        var cursor = offset
        var sequenceStart = offset
        var resumeAt: Int?
        var hops = 0
        while true {
            steps += 1
            guard cursor < bytes.count else { throw .truncated }
            let byte = bytes[cursor]
            switch byte >> 6 {
            case 0:
                let count = Int(byte)
                cursor += 1
                if count == 0 {
                    offset = resumeAt ?? cursor
                    return DNSName(labels: labels)
                }
                guard cursor + count <= bytes.count else { throw .truncated }
                length += 1 + count
                guard length <= 255 else { throw .nameTooLong }
                labels.append(Array(bytes[cursor..<(cursor + count)]))
                cursor += count
            case 3:
                guard compressed else { throw .compressedName }
                guard cursor + 1 < bytes.count else { throw .truncated }
                let target = Int(byte & 0x3F) << 8 | Int(bytes[cursor + 1])
                hops += 1
                guard target < sequenceStart, hops <= Self.maxPointers else { throw .badPointer }
                if resumeAt == nil { resumeAt = cursor + 2 }
                cursor = target
                sequenceStart = target
            default:
                throw .badLabelType(byte)
            }
        }
    }
}

/// Builds a DNS message. Owner names can be compressed against names written before.
struct DNSWriter {
    private(set) var bytes: [UInt8] = []
    /// Name suffixes already written, and where (only offsets a pointer can reach).
    private var suffixes: [[[UInt8]]: Int] = [:]

    init() {}

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    mutating func u32(_ v: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((v >> UInt32(shift)) & 0xFF)) } }
    mutating func append(_ data: [UInt8]) { bytes += data }

    /// Overwrites a 16-bit field written before (counts, lengths).
    mutating func set16(at index: Int, _ v: UInt16) {
        bytes[index] = UInt8(v >> 8)
        bytes[index + 1] = UInt8(v & 0xFF)
    }

    /// Writes `name`; with `compress`, its longest suffix already written becomes a pointer.
    /// Every name written registers its suffixes for later names. Suffixes match byte for
    /// byte (case included), so a name reads back exactly as it was written.
    mutating func name(_ name: DNSName, compress: Bool) {
        for i in 0..<name.labels.count {
            let suffix = Array(name.labels[i...])
            if compress, let at = suffixes[suffix] {
                u16(0xC000 | UInt16(at))
                return
            }
            if bytes.count < 0x3FFF, suffixes[suffix] == nil { suffixes[suffix] = bytes.count }
            u8(UInt8(name.labels[i].count))
            append(name.labels[i])
        }
        u8(0)
    }
}
