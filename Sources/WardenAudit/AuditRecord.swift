/// One audit record: a single line of the JSON Lines log.
///
/// Canonical line layout (keys sorted, no whitespace):
/// `{"fields":{…},"kind":"…","prev":"<64 hex>","run":"…","seq":N,"ts":"…","version":1}`
public struct AuditRecord: Sendable, Equatable {
    /// The record format version this library writes and accepts.
    public static let formatVersion: Int64 = 1
    /// `prev` of the first record in a log.
    public static let genesisHash = String(repeating: "0", count: 64)

    public var version: Int64
    public var seq: Int64
    public var ts: String
    public var kind: String
    public var run: String
    public var fields: [String: AuditValue]
    public var prev: String

    public init(
        version: Int64 = AuditRecord.formatVersion, seq: Int64, ts: String, kind: String, run: String,
        fields: [String: AuditValue], prev: String
    ) {
        self.version = version
        self.seq = seq
        self.ts = ts
        self.kind = kind
        self.run = run
        self.fields = fields
        self.prev = prev
    }

    /// The canonical line bytes (without the trailing newline).
    public func lineBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"fields":"#.utf8)
        CanonicalJSON.appendObject(fields, to: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        CanonicalJSON.appendString(kind, to: &out)
        out.append(contentsOf: #","prev":"#.utf8)
        CanonicalJSON.appendString(prev, to: &out)
        out.append(contentsOf: #","run":"#.utf8)
        CanonicalJSON.appendString(run, to: &out)
        out.append(contentsOf: #","seq":"#.utf8)
        CanonicalJSON.appendInt(seq, to: &out)
        out.append(contentsOf: #","ts":"#.utf8)
        CanonicalJSON.appendString(ts, to: &out)
        out.append(contentsOf: #","version":"#.utf8)
        CanonicalJSON.appendInt(version, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Parses one line strictly: valid JSON, exactly the record keys, valid header values,
    /// and byte-for-byte canonical (re-serialising gives the same bytes).
    public static func parse(line: [UInt8]) throws(AuditFormatError) -> AuditRecord {
        let value: AuditValue
        do throws(StrictJSONParser.Failure) {
            value = try StrictJSONParser.parse(line)
        } catch {
            throw .invalidJSON(offset: error.offset, reason: error.reason)
        }
        guard case .object(let o) = value else { throw .notARecord("the line is not a JSON object") }
        let expected: Set<String> = ["fields", "kind", "prev", "run", "seq", "ts", "version"]
        guard Set(o.keys) == expected else {
            throw .notARecord("keys must be exactly \(expected.sorted().joined(separator: ", "))")
        }
        guard case .object(let fields)? = o["fields"], case .string(let kind)? = o["kind"],
            case .string(let prev)? = o["prev"], case .string(let run)? = o["run"],
            case .int(let seq)? = o["seq"], case .string(let ts)? = o["ts"], case .int(let version)? = o["version"]
        else { throw .notARecord("a header field has the wrong type") }
        guard version == formatVersion else { throw .notARecord("unsupported version \(version)") }
        guard seq >= 0 else { throw .notARecord("negative seq") }
        guard RecordSyntax.isValidKind(kind) else { throw .notARecord("invalid kind") }
        guard RecordSyntax.isValidRunID(run) else { throw .notARecord("invalid run id") }
        guard RecordSyntax.isHash(prev) else { throw .notARecord("prev is not 64 lowercase hex digits") }
        let tsOK = Array(ts.utf8).withUnsafeBytes { AuditTime.isWellFormed($0) }
        guard tsOK else { throw .notARecord("ts is not RFC 3339 UTC with microseconds") }
        let record = AuditRecord(version: version, seq: seq, ts: ts, kind: kind, run: run, fields: fields, prev: prev)
        guard record.lineBytes() == line else { throw .notCanonical }
        return record
    }
}

/// Why a line is not a valid record.
public enum AuditFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(offset: Int, reason: String)
    case notARecord(String)
    case notCanonical

    public var description: String {
        switch self {
        case .invalidJSON(let off, let reason): return "invalid JSON at byte \(off): \(reason)"
        case .notARecord(let why): return "not an audit record: \(why)"
        case .notCanonical: return "record is not in canonical form (keys, spacing or escaping altered)"
        }
    }
}

/// Syntax rules for header values.
enum RecordSyntax {
    /// Kinds: 1–64 of `a-z 0-9 . _ -`.
    static func isValidKind<S: StringProtocol>(_ s: S) -> Bool {
        let u = s.utf8
        return !u.isEmpty && u.count <= 64 && u.allSatisfy(isKindByte)
    }

    /// Run ids: 1–128 of `A-Z a-z 0-9 . _ : -`.
    static func isValidRunID<S: StringProtocol>(_ s: S) -> Bool {
        let u = s.utf8
        return !u.isEmpty && u.count <= 128 && u.allSatisfy(isRunByte)
    }

    static func isHash<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { Hex.value($0) != nil }
    }

    @inline(__always) static func isKindByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
            || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    @inline(__always) static func isRunByte(_ b: UInt8) -> Bool {
        isKindByte(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: ":")
    }
}
