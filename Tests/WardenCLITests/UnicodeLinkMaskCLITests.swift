import Foundation
import Testing

/// A deny must hold through links whose target only differs from an ASCII path in Unicode:
/// Warden splits and compares host paths as bytes, as the kernel does.
@Suite struct UnicodeLinkMaskCLITests {
    /// An earlier run planted `.env -> "\u{301}x"` in its writable workspace; the operator
    /// then wrote a secret to `.env`, which landed in `\u{301}x`. The next run denies reading
    /// `.env`: the file behind the link must be masked, under its own name too.
    @Test func aSecretBehindALinkToACombiningMarkNameStaysUnreadable() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let f = try LanguageRunFixture("unicode-mask", body: """
          deny fs read "${workspace}/.env"
        """)
        defer { f.remove() }
        let secret = "s3cret-\(UInt32.random(in: 100_000...999_999))"
        try FileManager.default.createSymbolicLink(atPath: f.workspace + "/.env", withDestinationPath: "\u{301}x")
        try (secret + "\n").write(toFile: f.workspace + "/.env", atomically: false, encoding: .utf8)
        #expect(FileManager.default.fileExists(atPath: f.workspace + "/\u{301}x"), "the write went through the link")

        let ws = URL(fileURLWithPath: f.workspace).resolvingSymlinksInPath().path
        guard let r = try f.run(["/bin/sh", "-c", "cat .env; cat \"$1\"; echo done", "sh", ws + "/\u{301}x"]) else { return }
        #expect(r.stdout.contains("done"), "the agent ran: \(r.stderr)")
        #expect(!r.stdout.contains(secret), "the secret behind the link was read:\n\(r.stdout)")
        // From outside: the file is untouched.
        #expect((try? String(contentsOfFile: f.workspace + "/\u{301}x", encoding: .utf8)) == secret + "\n")
    }
}
