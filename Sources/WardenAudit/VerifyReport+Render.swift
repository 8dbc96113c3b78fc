import WardenKernel
extension VerifyReport {
    /// Stable JSON shape (keys sorted):
    /// `{"bytes","checkpoints":{"last_verified":{"line","seq"}|null,"unchecked","unknown_key","verified"},
    ///   "exit_code","failure":{"code","expected_seq","line","message","offset","seq"}|null,"head":{"hash","seq"}|null,
    ///   "interrupted":[{"line","run","seq","start_seq"}],
    ///   "lines","log","log_id","records","recoveries":[{"length","line","offset","seq","sha256"}],
    ///   "status":"intact"|"tampered"|"warnings","warnings":[{"code","line","message","seq"}]}`
    public func json(path: String) -> String {
        func opt(_ i: Int64?) -> AuditValue { i.map { .int($0) } ?? .null }
        let failure: AuditValue =
            failure.map { f in
                .object([
                    "line": .int(Int64(f.line)), "seq": opt(f.seq), "expected_seq": opt(f.expectedSeq),
                    "offset": .int(f.offset), "code": .string(f.code), "message": .string(f.message),
                ])
            } ?? .null
        let doc: AuditValue = .object([
            "log": .string(path),
            "status": .string(statusName),
            "exit_code": .int(Int64(status.rawValue)),
            "records": .int(Int64(records)),
            "lines": .int(Int64(lines)),
            "bytes": .int(bytes),
            "log_id": logID.map { .string($0) } ?? .null,
            "head": headSeq.map { .object(["seq": .int($0), "hash": .string(headHash ?? "")]) } ?? .null,
            "checkpoints": .object([
                "verified": .int(Int64(verifiedCheckpoints)), "unknown_key": .int(Int64(unknownKeyCheckpoints)),
                "unchecked": .int(Int64(uncheckedCheckpoints)),
                "last_verified": lastVerifiedCheckpoint.map { .object(["line": .int(Int64($0.line)), "seq": .int($0.seq)]) }
                    ?? .null,
            ]),
            "failure": failure,
            "warnings": .array(
                warnings.map { w in
                    .object([
                        "code": .string(w.code), "line": opt(w.line.map(Int64.init)), "seq": opt(w.seq),
                        "message": .string(w.message),
                    ])
                }),
            "interrupted": .array(
                interruptions.map { i in
                    .object([
                        "line": .int(Int64(i.line)), "seq": .int(i.seq), "run": .string(i.run),
                        "start_seq": opt(i.startSeq),
                    ])
                }),
            "recoveries": .array(
                recoveries.map { r in
                    .object([
                        "line": .int(Int64(r.line)), "seq": .int(r.seq), "offset": .int(r.offset),
                        "length": .int(r.length), "sha256": .string(r.sha256),
                    ])
                }),
        ])
        return String(decoding: CanonicalJSON.serialize(doc), as: UTF8.self)
    }

    public var statusName: String {
        switch status {
        case .intact: return "intact"
        case .tampered: return "tampered"
        case .warnings: return "warnings"
        }
    }

    /// Human-readable report. Everything taken from the log (or the path) is escaped with
    /// `TerminalText.escape`, so record content cannot drive the operator's terminal.
    public func text(path: String) -> String {
        let path = TerminalText.escape(path, doublingBackslashes: true)
        var out = "\(path): \(records) records, \(lines) lines, \(bytes) bytes\n"
        if let s = headSeq, let h = headHash { out += "  head: seq \(s), sha256 \(h)\n" }
        out += "  checkpoints: \(verifiedCheckpoints) verified"
        if unknownKeyCheckpoints > 0 { out += ", \(unknownKeyCheckpoints) by unknown keys (ignored)" }
        if uncheckedCheckpoints > 0 { out += ", \(uncheckedCheckpoints) not checked (no public key)" }
        if let c = lastVerifiedCheckpoint { out += "; last verified at line \(c.line) (seq \(c.seq))" }
        out += "\n"
        for r in recoveries {
            out += "  recovery at line \(r.line) (seq \(r.seq)): \(r.length) torn bytes at offset \(r.offset) were recorded\n"
        }
        for i in interruptions {
            let start = i.startSeq.map { " (run.start at seq \($0))" } ?? ""
            out += "  interrupted: run \(TerminalText.escape(i.run, doublingBackslashes: true))\(start) ended without run.exit; recorded at line \(i.line) (seq \(i.seq))\n"
        }
        if let f = failure {
            let seq = f.seq.map { "seq \($0)" } ?? "expected seq \(f.expectedSeq.map(String.init) ?? "?")"
            out += "TAMPERED: line \(f.line) (\(seq)): \(TerminalText.escape(f.message, doublingBackslashes: true)) [\(f.code)]\n"
            return out
        }
        for w in warnings {
            let loc = w.line.map { "line \($0)" + (w.seq.map { " (seq \($0))" } ?? "") + ": " } ?? ""
            out += "WARNING: \(loc)\(TerminalText.escape(w.message, doublingBackslashes: true)) [\(w.code)]\n"
        }
        if status == .intact { out += "OK: chain intact; every record is covered by a signed checkpoint\n" }
        return out
    }
}
