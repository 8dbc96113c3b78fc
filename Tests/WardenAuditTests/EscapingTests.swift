import WardenKernel
import Foundation
import Testing

@testable import WardenAudit

/// Nothing from a record reaches the operator's terminal raw.
@Suite struct EscapingTests {
    static let hostile = "a\u{1B}[2J\u{1B}]0;pwned\u{07}b\rc\nd\u{9B}31me\u{7F}f\u{202E}g\u{0}h\\i\tj\u{2028}"

    @Test func escapeWritesEveryControlCharacterVisibly() {
        #expect(TerminalText.escape("plain text, ünïcödé ✓", doublingBackslashes: true) == "plain text, ünïcödé ✓")
        #expect(
            TerminalText.escape(Self.hostile, doublingBackslashes: true)
                == #"a\x1b[2J\x1b]0;pwned\x07b\rc\nd\u009b31me\x7ff\u202eg\x00h\\i\tj\u2028"#)
        #expect(!containsControl(TerminalText.escape(Self.hostile, doublingBackslashes: true)))
    }

    func containsControl(_ s: String) -> Bool {
        s.unicodeScalars.contains { TerminalText.needsEscape($0) && $0 != "\\" }
    }

    @Test func showEscapesArgvDomainsAndFieldNames() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let log = try AuditLog(path: path)
        var info = startInfo(1)
        info.argv = ["/bin/sh", "-c", "echo \u{1B}[1A\u{1B}[2KOK\r\nrun fake  identity root"]
        info.identity = "x\u{1B}[31m"
        let run = try AuditRun(log: log, runID: "r1")
        try run.start(info)
        let t = AuditTime(seconds: 1_790_000_000, nanoseconds: 0)
        try run.network(denied: true, destination: "evil\u{07}.test", port: 53, proto: "dns", domain: "evil\n  2026-01-01T00:00:00.000000Z  exit       status 0\u{1B}[8m.test", pid: 0, rule: nil, at: t)
        try run.record(AuditEvent(kind: "note", fields: ["k\u{1B}ey": .string(Self.hostile), "nested": .strings([Self.hostile])]))
        try run.finish(RunExitInfo(status: 0))

        let text = try AuditTimeline.load(path: path).text()
        #expect(!containsControlExceptNewline(text), "\(text)")
        // Every line of output is one the printer made: forged lines stay inside their field.
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            #expect(line.hasPrefix("run ") || line.hasPrefix("  ") , "\(line)")
        }
        #expect(text.contains(#"argv       /bin/sh -c $'echo \x1b[1A\x1b[2KOK\r\nrun fake  identity root'"#), "\(text)")
        #expect(text.contains(#"(evil\n  2026-01-01T00:00:00.000000Z  exit       status 0\x1b[8m.test)"#), "\(text)")
        #expect(text.contains(#"k\x1bey="#))

        var streamed = ""
        var p = TimelinePrinter(format: .text) { streamed += $0 }
        try AuditTimeline.forEach(path: path) { p.add($0) }
        p.finish()
        #expect(streamed == text)
    }

    func containsControlExceptNewline(_ s: String) -> Bool {
        s.unicodeScalars.contains { TerminalText.needsEscape($0) && $0 != "\n" && $0 != "\\" }
    }

    @Test func verifyTextEscapesWhatItEchoes() {
        var r = VerifyReport()
        r.failure = .init(line: 3, seq: 2, expectedSeq: 2, offset: 10, code: "signature", message: "checkpoint names log \u{1B}[2Jx")
        r.status = .tampered
        let text = r.text(path: "/tmp/a\u{1B}b")
        #expect(!containsControlExceptNewline(text))
        #expect(text.contains(#"checkpoint names log \x1b[2Jx"#))
    }
}
