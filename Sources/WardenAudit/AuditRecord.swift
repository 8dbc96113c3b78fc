/// One audit record: a single line of the JSON Lines log.
///
/// Canonical line layout (keys sorted, no whitespace):
/// `{"fields":{…},"kind":"…","prev":"<64 hex>","run":"…","seq":N,"ts":"…","version":2}`
///
/// `version` names the canonical form of the line (`CanonicalForm`): 2 is RFC 8785 (JCS),
/// which this library writes; 1 is Warden's earlier form, still accepted so that older logs
/// and logs continued by this version (version 1 records, then version 2) verify. The
/// version is part of the line's bytes, so the hash chain covers it like any other byte.
public struct AuditRecord: Sendable, Equatable {
    /// The record format version this library writes: RFC 8785 canonical JSON.
    public static let formatVersion: Int64 = 2
    /// The earlier format (`CanonicalForm.legacy`), accepted but never written.
    public static let legacyVersion: Int64 = 1
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

    /// The canonical form of this record's line: JCS from version 2 on, else the legacy form.
    public var form: CanonicalForm { version >= 2 ? .jcs : .legacy }

    /// The canonical line bytes (without the trailing newline), in the form `version` names.
    /// The header keys are ASCII, so their order is the same in both forms.
    public func lineBytes() -> [UInt8] {
        let form = self.form
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"fields":"#.utf8)
        CanonicalJSON.appendObject(fields, form: form, to: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        CanonicalJSON.appendString(kind, form: form, to: &out)
        out.append(contentsOf: #","prev":"#.utf8)
        CanonicalJSON.appendString(prev, form: form, to: &out)
        out.append(contentsOf: #","run":"#.utf8)
        CanonicalJSON.appendString(run, form: form, to: &out)
        out.append(contentsOf: #","seq":"#.utf8)
        CanonicalJSON.appendInt(seq, form: form, to: &out)
        out.append(contentsOf: #","ts":"#.utf8)
        CanonicalJSON.appendString(ts, form: form, to: &out)
        out.append(contentsOf: #","version":"#.utf8)
        CanonicalJSON.appendInt(version, form: form, to: &out)
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
        guard version == formatVersion || version == legacyVersion else {
            throw .notARecord("unsupported version \(version) (this Warden reads versions 1 and 2)")
        }
        guard seq >= 0 else { throw .notARecord("negative seq") }
        guard version == legacyVersion || seq <= RecordSyntax.maxSeq else {
            throw .notARecord("seq beyond 2^53-1, which RFC 8785 numbers cannot hold")
        }
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
    /// Largest seq a version 2 record can carry as an exact RFC 8785 number (2^53−1).
    static let maxSeq = CanonicalJSON.maxExactInteger

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
