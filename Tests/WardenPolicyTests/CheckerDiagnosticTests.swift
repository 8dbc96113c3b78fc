import Testing
import WardenKernel
@testable import WardenPolicy

/// One policy per diagnostic code, with the exact diagnostics expected.
struct DiagnosticCase: Sendable, CustomTestStringConvertible {
    let code: String
    let text: String
    let expected: [String]
    var others: [String: String] = [:]
    var testDescription: String { code }
}

let identityHead = "warden 1\nidentity agent {\n"

let diagnosticCases: [DiagnosticCase] = [
    .init(code: "duplicate-secret", text: "warden 1\nsecret gh from env \"A\"\nsecret gh from env \"B\"\n", expected: ["duplicate-secret@3:8"]),
    .init(code: "inject-on-deny", text: "warden 1\nsecret gh from env \"A\"\nidentity agent {\n  deny https GET \"x.com/**\" with bearer gh\n}\n", expected: ["inject-on-deny@4:29"]),
    .init(code: "invalid-http-method", text: identityHead + "  allow https get \"x.com/**\"\n}\n", expected: ["invalid-http-method@3:15"]),
    .init(code: "invalid-http-pattern", text: identityHead + "  allow https GET \"x.com\"\n}\n", expected: ["invalid-http-pattern@3:19"]),
    .init(code: "invalid-injection", text: "warden 1\nsecret gh from env \"A\"\nidentity agent {\n  allow https GET \"x.com/**\" with header \"Host\" gh\n}\n", expected: ["invalid-injection@4:42"]),
    .init(code: "invalid-ref-pattern", text: identityHead + "  allow git push \"x.com/a/b\" ref \"main\"\n}\n", expected: ["invalid-ref-pattern@3:34"]),
    .init(code: "invalid-secret-source", text: "warden 1\nsecret gh from file \"relative\"\n", expected: ["invalid-secret-source@2:21"]),
    .init(code: "mixed-http-scheme", text: identityHead + "  allow http GET \"x.com:8080/**\"\n  allow https GET \"x.com:8080/a\"\n}\n", expected: ["mixed-http-scheme@3:18"]),
    .init(code: "unknown-secret", text: identityHead + "  allow https GET \"x.com/**\" with bearer gj\n  env placeholder T = gh\n}\n", expected: ["unknown-secret@3:42", "unknown-secret@4:23"]),
    .init(code: "argument-out-of-range", text: identityHead + "  allow syscall socket(1, 2, 3, 4)\n}\n", expected: ["argument-out-of-range@3:33"]),
    .init(code: "cache-outside-home", text: identityHead + "  cache \"${workspace}/.cache\"\n}\n", expected: ["cache-outside-home@3:9"]),
    .init(code: "exec-in-cache", text: identityHead + "  cache \"${home}/.c\"\n  allow fs exec \"${home}/.c/bin\"\n}\n", expected: ["exec-in-cache@4:17"]),
    .init(code: "cidr-host-bits", text: identityHead + "  allow net connect tcp \"[fd00::1/8]:443\"\n}\n", expected: ["cidr-host-bits@3:25"]),
    .init(code: "control-character", text: "warden 1\n# bell \u{7}\n", expected: ["control-character@2:8"]),
    .init(code: "conflicting-conditions", text: identityHead + "  allow syscall socket(domain == 1, domain > 5)\n}\n", expected: ["conflicting-conditions@3:37"]),
    .init(code: "duplicate-access", text: identityHead + "  allow fs read, read \"/x\"\n}\n", expected: ["duplicate-access@3:18"]),
    .init(code: "duplicate-definition", text: "warden 1\npermissions a {\n}\npermissions a {\n}\n", expected: ["duplicate-definition@4:13"]),
    .init(code: "duplicate-description", text: identityHead + "  description \"a\"\n  description \"b\"\n}\n", expected: ["duplicate-description@4:3"]),
    .init(code: "duplicate-env", text: identityHead + "  env set A = \"1\"\n  env set A = \"2\"\n}\n", expected: ["duplicate-env@4:11"]),
    .init(code: "duplicate-limit", text: identityHead + "  limit memory 1GiB\n  limit memory 2GiB\n}\n", expected: ["duplicate-limit@4:3"]),
    .init(code: "duplicate-test-identity", text: identityHead + "}\ntest \"t\" {\n  identity agent\n  identity agent\n  expect deny syscall bpf\n}\n", expected: ["duplicate-test-identity@6:3"]),
    .init(code: "empty-test", text: identityHead + "}\ntest \"t\" {\n  identity agent\n}\n", expected: ["empty-test@4:6"]),
    .init(code: "errno-on-allow", text: identityHead + "  allow syscall ptrace errno EPERM\n}\n", expected: ["errno-on-allow@3:30"]),
    .init(code: "group-condition", text: identityHead + "  allow syscall @default(1)\n}\n", expected: ["group-condition@3:26"]),
    .init(code: "impossible-condition", text: identityHead + "  allow syscall socket(type & 0x1 == 0x2, protocol in [])\n}\n", expected: ["impossible-condition@3:24", "impossible-condition@3:43"]),
    .init(code: "include-cycle", text: "warden 1\ninclude \"a.warden\"\n", expected: ["include-cycle@2:9"],
          others: ["a.warden": "warden 1\ninclude \"main.warden\"\n"]),
    .init(code: "include-not-found", text: "warden 1\ninclude \"nope.warden\"\n", expected: ["include-not-found@2:9"]),
    .init(code: "invalid-bind-endpoint", text: identityHead + "  allow net bind tcp \"example.org:80\"\n}\n", expected: ["invalid-bind-endpoint@3:22"]),
    .init(code: "invalid-create", text: identityHead + "  deny fs write \"${workspace}/a\" create\n  allow fs read \"${workspace}/b\" create\n  allow fs write \"/srv/x\", \"${workspace}\" create\n}\n",
          expected: ["invalid-create@3:34", "invalid-create@4:34", "invalid-create@5:18", "invalid-create@5:28"]),
    .init(code: "invalid-endpoint", text: identityHead + "  allow net connect tcp \"example.org\", \"::1:80\", \"a..b:1\"\n}\n",
          expected: ["invalid-endpoint@3:25", "invalid-endpoint@3:40", "invalid-endpoint@3:50"]),
    .init(code: "invalid-env-name", text: identityHead + "  env pass MY-VAR\n}\n", expected: ["invalid-env-name@3:12"]),
    .init(code: "invalid-env-value", text: identityHead + "  env set A = \"${tmp/x\"\n}\n", expected: ["invalid-env-value@3:15"]),
    .init(code: "invalid-limit-value", text: identityHead + "  limit wall-time 30\n  limit processes 4k\n}\n", expected: ["invalid-limit-value@3:19", "invalid-limit-value@4:19"]),
    .init(code: "invalid-name", text: "warden 1\npermissions _x {\n}\n", expected: ["invalid-name@2:13"]),
    .init(code: "invalid-number", text: identityHead + "  allow syscall socket(09)\n}\n", expected: ["invalid-number@3:24"]),
    .init(code: "invalid-path", text: identityHead + "  allow fs read \"/a/../b\", \"/a//b\", \"${home}x\"\n}\n",
          expected: ["invalid-path@3:17", "invalid-path@3:28", "invalid-path@3:37"]),
    .init(code: "invalid-port", text: identityHead + "  allow net connect tcp \"a.org:http\"\n}\n", expected: ["invalid-port@3:25"]),
    .init(code: "limit-overflow", text: identityHead + "  limit memory 99999999999TiB\n}\n", expected: ["limit-overflow@3:16"]),
    .init(code: "missing-version", text: "permissions a {\n}\n", expected: ["missing-version@1:1"]),
    .init(code: "non-concrete-test-target", text: identityHead + "}\ntest \"t\" {\n  identity agent\n  expect deny net connect tcp \"10.0.0.0/8:1-5\"\n}\n",
          expected: ["non-concrete-test-target@6:31"]),
    .init(code: "number-overflow", text: identityHead + "  allow syscall socket(0x10000000000000000)\n}\n", expected: ["number-overflow@3:24"]),
    .init(code: "relative-path", text: identityHead + "  deny fs read \"etc\"\n}\n", expected: ["relative-path@3:16"]),
    .init(code: "reversed-port-range", text: identityHead + "  allow net connect udp \"*:9-8\"\n}\n", expected: ["reversed-port-range@3:25"]),
    .init(code: "statement-not-allowed", text: "warden 1\npermissions a {\n  limit processes 1\n}\n", expected: ["statement-not-allowed@3:3"]),
    .init(code: "syntax-error", text: identityHead + "  allow fs read\n}\n", expected: ["syntax-error@3:16"]),
    .init(code: "test-missing-identity", text: "warden 1\ntest \"t\" {\n  expect deny syscall bpf\n}\n", expected: ["test-missing-identity@2:6"]),
    .init(code: "unknown-argument", text: identityHead + "  allow syscall socket(famliy == 1)\n}\n", expected: ["unknown-argument@3:24"]),
    .init(code: "unknown-capability", text: identityHead + "  allow capability CAP_SYS_ADMN\n}\n", expected: ["unknown-capability@3:20"]),
    .init(code: "unknown-constant", text: identityHead + "  allow syscall socket(AF_INET6 | AF_FOO)\n}\n", expected: ["unknown-constant@3:35"]),
    .init(code: "unknown-errno", text: identityHead + "  deny syscall ptrace errno EPRM\n}\n", expected: ["unknown-errno@3:29"]),
    .init(code: "unknown-identity", text: "warden 1\ntest \"t\" {\n  identity nobody\n  expect deny syscall bpf\n}\n", expected: ["unknown-identity@3:12"]),
    .init(code: "unknown-limit", text: identityHead + "  limit threads 5\n}\n", expected: ["unknown-limit@3:9"]),
    .init(code: "unknown-permission-set", text: identityHead + "  use nothing\n}\n", expected: ["unknown-permission-set@3:7"]),
    .init(code: "unknown-syscall", text: identityHead + "  allow syscall frobnicate\n}\n", expected: ["unknown-syscall@3:17"]),
    .init(code: "unknown-syscall-group", text: identityHead + "  allow syscall @nope\n}\n", expected: ["unknown-syscall-group@3:17"]),
    .init(code: "unknown-variable", text: identityHead + "  allow fs read \"${cwd}/x\"\n  env set CACHE = \"${tpm}/cache\"\n}\n",
          expected: ["unknown-variable@3:17", "unknown-variable@4:19"]),
    .init(code: "unsupported-version", text: "warden 3\n", expected: ["unsupported-version@1:8"]),
    .init(code: "use-cycle", text: "warden 1\npermissions a {\n  use b\n}\npermissions b {\n  use a\n}\n", expected: ["use-cycle@6:7"]),
    .init(code: "value-out-of-range", text: identityHead + "  allow syscall socket(0x100000000)\n}\n", expected: ["value-out-of-range@3:24"]),
    .init(code: "duplicate-enforce-only", text: identityHead + "  enforce-only\n  enforce-only\n}\n", expected: ["duplicate-enforce-only@4:3"]),
    .init(code: "zero-limit", text: identityHead + "  limit open-files 0\n}\n", expected: ["zero-limit@3:20"]),
] + triggerDiagnosticCases

@Suite struct CheckerDiagnosticTests {
    @Test(arguments: diagnosticCases)
    func reportsCode(_ c: DiagnosticCase) {
        let a = analyze(c.text, others: c.others)
        #expect(locations(a.diagnostics) == c.expected)
        for d in a.diagnostics {
            #expect(DiagnosticCodes.all.contains { $0.code == d.code }, "unregistered code \(d.code)")
        }
    }

    /// Every registered code is exercised here or by a kernel-data-dependent test below.
    @Test func everyCodeHasACase() {
        let covered = Set(diagnosticCases.map(\.code)).union(["pointer-argument-condition", "no-syscall-signature", "include-unreadable", "use-too-deep", "include-too-deep",
                                                                     "too-many-errors"])  // ControlCharacterTests.tooManyErrorsStopsTheFile
        let missing = DiagnosticCodes.all.map(\.code).filter { !covered.contains($0) }
        #expect(missing.isEmpty, "codes without a test: \(missing)")
    }

    @Test func pointerArgumentCondition() {
        let found = SyscallTable.allNames.lazy.compactMap { name -> (String, Int, String)? in
            guard let sig = SyscallSignatures.arguments(of: name), let i = sig.firstIndex(where: { $0.kind == .pointer }) else { return nil }
            return (name, i, sig[i].name)
        }.first
        guard let (name, _, arg) = found else {
            print("skip: WardenKernel has no signature with a pointer argument yet")
            return
        }
        let a = analyze(identityHead + "  allow syscall \(name)(\(arg) == 0)\n}\n")
        #expect(locations(a.diagnostics) == ["pointer-argument-condition@3:\(17 + name.count + 1)"])
        #expect(a.diagnostics.first?.help?.contains("between the check and its use") == true)
    }

    @Test func noSyscallSignature() throws {
        let name = try #require(["getpid", "read", "write", "openat"].first { SyscallTable.isKnown($0) && SyscallSignatures.arguments(of: $0) == nil }
            ?? SyscallTable.allNames.first { SyscallSignatures.arguments(of: $0) == nil })
        let a = analyze(identityHead + "  allow syscall \(name)(arg0 == 1)\n}\n")
        #expect(locations(a.diagnostics) == ["no-syscall-signature@3:\(17 + name.count + 1)"])
    }

    @Test func deepUseChainIsBounded() {
        var text = "warden 1\n"
        for i in 0..<2000 { text += "permissions s\(i) {\n  use s\(i + 1)\n  allow fs read \"/x\(i)\"\n}\n" }
        text += "permissions s2000 {\n}\nidentity a {\n  use s0\n}\n"
        let a = analyze(text)
        #expect(a.diagnostics.map(\.code) == ["use-too-deep"])
    }

    @Test func deepIncludeChainIsBounded() {
        var files: [String: String] = [:]
        for i in 0..<200 { files["f\(i).warden"] = "warden 1\ninclude \"f\(i + 1).warden\"\n" }
        files["f200.warden"] = "warden 1\n"
        let a = analyze("warden 1\ninclude \"f0.warden\"\n", others: files)
        #expect(a.diagnostics.map(\.code) == ["include-too-deep"])
    }

    @Test func includeUnreadable() {
        struct Failing: SourceProvider {
            func read(_ path: String) throws(SourceProviderError) -> String {
                if path == "main.warden" { return "warden 1\ninclude \"bad.warden\"\n" }
                throw .notUTF8(path: path)
            }
        }
        do {
            let a = try PolicyLoader(provider: Failing()).analyze("main.warden")
            #expect(locations(a.diagnostics) == ["include-unreadable@2:9"])
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func suggestionsAndNotes() {
        let a = analyze("warden 1\npermissions tools {\n}\nidentity x {\n  use tols\n}\nidentity x {\n}\n")
        #expect(a.diagnostics.map(\.help) == ["did you mean `tools`?", "rename one of them or remove the duplicate"])
        #expect(a.diagnostics[1].notes.map { "\($0.span)" } == ["main.warden:4:10"])
    }

    @Test func duplicateBodiesAreStillChecked() {
        let a = analyze("warden 1\npermissions a {\n}\npermissions a {\n  allow syscall nope\n}\nidentity b {\n}\nidentity b {\n  limit foo 1\n}\n")
        #expect(locations(a.diagnostics) == ["duplicate-definition@4:13", "unknown-syscall@5:17", "duplicate-definition@9:10", "unknown-limit@10:9"])
    }

    @Test func duplicateAcrossIncludesPointsAtFirstFile() {
        let a = analyze("warden 1\ninclude \"lib/base.warden\"\nidentity x {\n}\n",
                        others: ["lib/base.warden": "warden 1\nidentity x {\n}\n"])
        #expect(locations(a.diagnostics) == ["duplicate-definition@3:10"])
        #expect(a.diagnostics.first?.notes.first?.span.file == "lib/base.warden")
    }

    @Test func includeCycleOfThreeHasNotes() {
        let a = analyze("warden 1\ninclude \"a.warden\"\n", others: [
            "a.warden": "warden 1\ninclude \"b.warden\"\n",
            "b.warden": "warden 1\ninclude \"a.warden\"\n",
        ])
        #expect(locations(a.diagnostics) == ["include-cycle@2:9"])
        #expect(a.diagnostics.first?.span.file == "b.warden")
        #expect(a.diagnostics.first?.message == "include cycle: a.warden → b.warden → a.warden")
    }

    @Test func fileIncludedTwiceIsLoadedOnce() {
        let a = analyze("warden 1\ninclude \"a.warden\"\ninclude \"./a.warden\"\ninclude \"b.warden\"\n", others: [
            "a.warden": "warden 1\npermissions p {\n}\n",
            "b.warden": "warden 1\ninclude \"a.warden\"\n",
        ])
        #expect(a.diagnostics.isEmpty, "\(a.diagnostics)")
        #expect(a.policy.files.map(\.path) == ["a.warden", "b.warden", "main.warden"])
    }
}
