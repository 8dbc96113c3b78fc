import Foundation
import Testing

@testable import WardenAudit

/// Warden's RFC 8785 output against an independent implementation: PyPI's `rfc8785`
/// (installed by scripts/setup.sh). Each sample line goes through Python's JSON parser and
/// that library's canonicaliser; the bytes must come back unchanged. Skipped, with the
/// reason printed, where the module is missing.
@Suite struct JCSCrossCheckTests {
    static let python = "/usr/bin/python3"
    static let script = """
        import sys, json, rfc8785
        out = sys.stdout.buffer
        for line in sys.stdin.buffer.read().split(b"\\n"):
            if not line:
                continue
            out.write(rfc8785.dumps(json.loads(line)) + b"\\n")
        """

    /// The module's canonical form of each line, or nil (reason printed) when it is missing.
    private func canonicalize(_ lines: [[UInt8]]) throws -> [[UInt8]]? {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            print("skip: \(Self.python) is missing; the RFC 8785 cross-check needs it (scripts/setup.sh)")
            return nil
        }
        let probe = try run(["-c", "import rfc8785"], input: [])
        guard probe.status == 0 else {
            print("skip: Python module rfc8785 is not installed (scripts/setup.sh installs it: python3 -m pip install rfc8785)")
            return nil
        }
        let result = try run(["-c", Self.script], input: lines.flatMap { $0 + [0x0A] })
        #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
        return splitLines(result.stdout).map { Array($0.dropLast()) }
    }

    private func run(_ args: [String], input: [UInt8]) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try writeBytes(dir.file("in"), input)
        try writeBytes(dir.file("out"), [])
        try writeBytes(dir.file("err"), [])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.python)
        p.arguments = args
        p.standardInput = FileHandle(forReadingAtPath: dir.file("in"))
        p.standardOutput = FileHandle(forWritingAtPath: dir.file("out"))
        p.standardError = FileHandle(forWritingAtPath: dir.file("err"))
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, try readBytes(dir.file("out")), try readBytes(dir.file("err")))
    }

    /// Sample values: every difference between the forms, controls, non-BMP text, big numbers.
    private var samples: [AuditValue] {
        [
            ["\u{E000}": 1, "\u{1F600}": 2, "\u{FB33}": 3, "\u{10FFFF}": 4, "\u{FFFF}": 5, "z": 6, "": 7],
            ["del": "a\u{7F}b", "controls": "\u{0}\u{1}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1F}", "quote": "\"\\/"],
            ["text": "é 日本 \u{2028}\u{2029} \u{1F600} \u{FEFF}", "nested": [["\u{1F600}": [nil, true, false]], [], [:]]],
            ["exact": 9_007_199_254_740_991, "neg": -9_007_199_254_740_991, "beyond": .int(Int64.max), "min": .int(Int64.min), "zero": 0],
        ]
    }

    @Test func wardensJCSMatchesAnIndependentImplementation() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        // Real records from the writer, plus records holding the sample values.
        let path = dir.file("log.jsonl")
        try writeRealisticLog(path: path, key: AuditSigningKey.generate(), runs: 2, denialsPerRun: 30)
        let log = try AuditLog(path: path)
        try log.append(samples.map { AuditEvent(kind: "note", fields: $0.objectValue ?? [:]) }, run: "samples")
        var lines = splitLines(try readBytes(path)).map { Array($0.dropLast()) }
        lines += samples.map { CanonicalJSON.serialize($0, form: .jcs) }
        guard let theirs = try canonicalize(lines) else { return }
        #expect(theirs.count == lines.count)
        for (mine, other) in zip(lines, theirs) where mine != other {
            Issue.record("differs:\nwarden: \(String(decoding: mine, as: UTF8.self))\nrfc8785: \(String(decoding: other, as: UTF8.self))")
        }
    }

    @Test func theLegacyFormIsNotJCSWhereTheyDiffer() throws {
        // The check above can fail: the version 1 serialisation of the same samples is refused.
        let lines = samples.prefix(2).map { CanonicalJSON.serialize($0, form: .legacy) }
        guard let theirs = try canonicalize(lines) else { return }
        #expect(theirs.count == 2)
        for (mine, other) in zip(lines, theirs) { #expect(mine != other) }
    }
}
