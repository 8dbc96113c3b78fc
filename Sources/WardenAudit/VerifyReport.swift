/// The outcome of `AuditVerifier.verify`.
public struct VerifyReport: Sendable, Equatable {
    /// Overall verdict; the raw value is the CLI exit code.
    public enum Status: Int32, Sendable {
        /// Intact and every record covered by a checkpoint signed by a given key.
        case intact = 0
        /// Modified, inserted, deleted, reordered or duplicated records, a broken chain, a bad
        /// signature by a known key, or inconsistency with the trusted checkpoint.
        case tampered = 1
        /// Intact, with warnings (unsigned records at the end, torn tail, clock stepped back,
        /// no key given).
        case warnings = 3
    }

    /// The first bad record.
    public struct Failure: Sendable, Equatable {
        /// 1-based line number.
        public var line: Int
        /// Seq found on that line, if it could be read.
        public var seq: Int64?
        /// Seq an intact log would have at that line.
        public var expectedSeq: Int64?
        /// Byte offset of the line.
        public var offset: Int64
        /// Stable code: `malformed`, `modified`, `seq`, `chain`, `signature`, `recovery`, `trusted-checkpoint`.
        public var code: String
        public var message: String
    }

    /// Something that does not prove tampering but leaves records unprotected.
    public struct Warning: Sendable, Equatable {
        /// Stable code: `unsigned-tail`, `torn-tail`, `clock-step`, `no-public-key`, `empty`.
        public var code: String
        public var line: Int?
        public var seq: Int64?
        public var message: String
    }

    /// A torn write that a later writer recorded.
    public struct Recovery: Sendable, Equatable {
        public var line: Int
        public var seq: Int64
        public var offset: Int64
        public var length: Int64
        public var sha256: String
    }

    /// An `interrupted` record: a later writer found that run `run` (its `run.start` at
    /// `startSeq`) ended without `run.exit`. Informative; it does not change the status.
    public struct Interruption: Sendable, Equatable {
        public var line: Int
        public var seq: Int64
        public var run: String
        public var startSeq: Int64?
    }

    public var status: Status = .intact
    public var records = 0
    public var lines = 0
    public var bytes: Int64 = 0
    public var headSeq: Int64?
    public var headHash: String?
    public var logID: String?
    public var verifiedCheckpoints = 0
    public var unknownKeyCheckpoints = 0
    public var uncheckedCheckpoints = 0
    /// Line and seq of the last checkpoint verified with a given key.
    public var lastVerifiedCheckpoint: (line: Int, seq: Int64)? {
        get { lastCheckpointLine.map { ($0, lastCheckpointSeq ?? 0) } }
        set {
            lastCheckpointLine = newValue?.line
            lastCheckpointSeq = newValue?.seq
        }
    }
    var lastCheckpointLine: Int?
    var lastCheckpointSeq: Int64?
    public var failure: Failure?
    public var warnings: [Warning] = []
    public var recoveries: [Recovery] = []
    /// The first `maxListedInterruptions` `interrupted` records.
    public var interruptions: [Interruption] = []
    public static let maxListedInterruptions = 1000

    public static func == (a: VerifyReport, b: VerifyReport) -> Bool {
        a.status == b.status && a.records == b.records && a.lines == b.lines && a.failure == b.failure
            && a.warnings == b.warnings && a.recoveries == b.recoveries && a.headHash == b.headHash
            && a.interruptions == b.interruptions
    }
}
