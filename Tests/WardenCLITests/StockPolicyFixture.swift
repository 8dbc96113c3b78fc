import Foundation
import Testing

/// A scratch world for one stock-policy run: a git repository (a small Python package with
/// `unittest` tests, a small C program, CI and lint configuration), a fake HOME holding fake
/// credentials, an audit log and an audit signing key pair. Removed by `remove()`.
struct StockPolicyFixture {
    let root: String
    var workspace: String { root + "/ws" }
    var home: String { root + "/home" }
    var log: String { root + "/audit.jsonl" }
    var keyPrefix: String { root + "/audit-signing" }
    /// Text of the fake private key; it must never show up in the agent's output.
    static let fakeKey = "FAKE-PRIVATE-KEY-5d41402abc4b2a76"

    static let files: [(path: String, text: String)] = [
        ("pkg/__init__.py", ""),
        ("pkg/calc.py", """
            def add(a, b):
                return a + b


            def parse_number(text):
                return eval(text)  # vulnerable: runs arbitrary code

            """),
        ("pkg/util.py", "def double(x):   \n    return x * 2\t\n"),
        ("tests/__init__.py", ""),
        ("tests/test_calc.py", """
            import unittest

            from pkg.calc import add, parse_number


            class CalcTests(unittest.TestCase):
                def test_add(self):
                    self.assertEqual(add(2, 3), 5)

                def test_parse_number(self):
                    self.assertEqual(parse_number("42"), 42)

            """),
        ("square.c", "int square(int x) { return x * x; }\n"),
        ("hello.c", """
            #include <stdio.h>
            int square(int x);
            int main(void) { printf("hello %d\\n", square(7)); return 0; }

            """),
        ("Makefile", "hello: hello.c square.c\n\tcc -o hello hello.c square.c\n"),
        ("build.sh", "#!/bin/sh\nmake\n"),
        ("requirements.txt", "requests==2.25.0\n"),
        ("pyproject.toml", "[tool.ruff]\nline-length = 88\n"),
        (".github/workflows/ci.yml", "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python3 -m unittest\n"),
        (".travis.yml", "language: python\nscript: python3 -m unittest\n"),
        (".gitignore", "__pycache__/\nhello\nbuild/\n*.gcno\n*.gcda\n"),
    ]

    /// A new fixture; nil (with a printed reason) when the warden binary is not built.
    static func make() throws -> StockPolicyFixture? {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else {
            print("skip: \(WardenBinary.path) not built (run `swift build` first)")
            return nil
        }
        return try StockPolicyFixture()
    }

    private init() throws {
        root = try WardenBinary.tempDir("stock")
        for (path, text) in Self.files { try write(workspace + "/" + path, text) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: workspace + "/build.sh")
        try write(home + "/.ssh/id_ed25519", Self.fakeKey + "\n")
        try write(home + "/.npmrc", "//registry.npmjs.org/:_authToken=\(Self.fakeKey)\n")
        for dir in [home + "/.cache/pip", home + "/warden-reports", workspace + "/build"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try git("init", "-q")
        try git("add", "-A")
        try git("commit", "-q", "-m", "initial import")
        _ = try warden(["audit", "keygen", "--output", keyPrefix])
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: workspace + "/" + relative, encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: workspace + "/" + relative) }

    /// Git outside the sandbox, as the operator; throws when it fails.
    @discardableResult
    func git(_ arguments: String...) throws -> String {
        let o = try CLISupport.run("/usr/bin/git", ["-c", "user.name=Operator", "-c", "user.email=operator@example.com"] + arguments,
                                   in: workspace, environment: environment)
        guard o.status == 0 else { throw FixtureError.command("git \(arguments.joined(separator: " ")): \(o.stderr)") }
        return o.stdout
    }

    /// The environment of Warden itself: a fake HOME and a plain PATH (so `python3` is the
    /// system's /usr/bin/python3, inside the toolchain).
    /// (and the token github-pr-author's secret reads; no other policy passes it on).
    var environment: [String: String] {
        ["PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1",
         "WARDEN_GITHUB_TOKEN": Self.githubToken]
    }

    /// The fake GitHub token github-pr-author's runs get; it must never reach the agent or the log.
    static let githubToken = "ghs_fixtureToken0123456789abcdef"

    func warden(_ arguments: [String]) throws -> WardenBinary.Result {
        guard let r = try WardenBinary.run(arguments, in: workspace, environment: environment) else {
            throw FixtureError.command("\(WardenBinary.path) is not built")
        }
        return r
    }

    enum FixtureError: Error { case command(String) }
}
