import Foundation
import Testing

/// examples/ci/action/action.yml run for real: its steps, read strictly and executed with
/// bash as a runner executes them, install a "release" assembled here from the debug
/// build (the tarball layout and SHA256SUMS format of scripts/dist.sh, served through a
/// file:// URL or a directory), then lint, test and diff a git repository whose head
/// commit widens a policy.
@Suite struct CIActionTests {
    static let actionFile = WardenBinary.root + "/examples/ci/action/action.yml"

    /// Tools the action and the fixture need; nil (with a printed reason) when one is missing.
    static func toolsPresent() -> Bool {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for tool in ["bash", "git", "tar", "gzip", "sha256sum", "curl", "awk"] {
            if !dirs.contains(where: { FileManager.default.isExecutableFile(atPath: $0 + "/" + tool) }) {
                print("skip: \(tool) not found on PATH (the CI action test needs bash, git, tar, gzip, sha256sum, curl, awk)")
                return false
            }
        }
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else {
            print("skip: \(WardenBinary.path) not built (run `swift build` first)")
            return false
        }
        return true
    }

    /// A release directory as `make dist` leaves dist/: the tarball
    /// warden-VERSION-linux-MACHINE.tar.gz (NAME/bin/warden, NAME/share/warden/policies),
    /// another artifact, and SHA256SUMS (`sha256sum` lines) listing both.
    struct Release {
        let dir: String
        let version: String
        let tarball: String

        init(in parent: String, extraEntry: String? = nil) throws {
            dir = parent + "/dist"
            let v = try #require(try WardenBinary.run(["--version"])).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            version = v
            let machine = try CLISupport.run("/usr/bin/env", ["uname", "-m"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let name = "warden-\(v)-linux-\(machine)"
            tarball = dir + "/" + name + ".tar.gz"
            let script = """
            set -euo pipefail
            stage="$PARENT/stage"; mkdir -p "$stage/$NAME/bin" "$stage/$NAME/share/warden/policies" "$DIST"
            cp "$BINARY" "$stage/$NAME/bin/warden"
            cp "$ROOT"/policies/*.warden "$stage/$NAME/share/warden/policies/"
            if [[ -n $EXTRA ]]; then mkdir -p "$stage/$(dirname "$EXTRA")"; echo x > "$stage/$EXTRA"; fi
            entries=("$NAME"); [[ -n $EXTRA ]] && entries+=("$EXTRA")
            tar --owner=0 --group=0 -C "$stage" -cf - "${entries[@]}" | gzip -1 > "$DIST/$NAME.tar.gz"
            printf 'not really a deb\\n' > "$DIST/warden_${VERSION}_amd64.deb"
            cd "$DIST" && sha256sum "warden_${VERSION}_amd64.deb" "$NAME.tar.gz" > SHA256SUMS
            rm -rf "$stage"
            """
            let r = try CLISupport.run("/bin/bash", ["-c", script], environment: [
                "PATH": "/usr/bin:/bin", "PARENT": parent, "DIST": dir, "NAME": name, "VERSION": v,
                "BINARY": WardenBinary.path, "ROOT": WardenBinary.root, "EXTRA": extraEntry ?? ""])
            #expect(r.status == 0, "assembling the release: \(r.stderr)")
        }

        /// The tarball with one byte appended, SHA256SUMS left as published.
        func tamper() throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tarball))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data([0]))
            try handle.close()
        }

        func sha256() throws -> String {
            String(try CLISupport.run("/usr/bin/env", ["sha256sum", tarball]).stdout.prefix(64))
        }
    }

    /// A repository as actions/checkout leaves it for a pull request: the stock policies
    /// committed on main (also as origin/main), then the pull request's commit on top, which
    /// lets `default` connect to a registry. The local `main` is moved to the head, so a diff
    /// against `main` instead of `origin/main` would find nothing.
    static func pullRequestWorld(widen: Bool = true) throws -> DiffWorld {
        let world = try DiffWorld()
        try world.git(["init", "-q", "-b", "main"])
        try world.copyStockPolicies(to: "policies")
        try world.commit("stock policies")
        try world.git(["update-ref", "refs/remotes/origin/main", "HEAD"])
        if widen {
            var policy = try world.read("policies/default.warden")
            let marker = "identity default {\n"
            #expect(policy.contains(marker))
            policy = policy.replacingOccurrences(of: marker, with: marker + "  allow net connect tcp \"registry.example.org:443\"\n")
            try world.write("policies/default.warden", policy)
            try world.commit("pull request")
        }
        return world
    }

    static func run(_ inputs: [String: String], in world: DiffWorld) throws -> CompositeAction.JobResult {
        let action = try CompositeAction(path: actionFile)
        let temp = world.dir + "/.runner-temp"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        return try action.run(with: inputs, workspace: world.dir, runnerTemp: temp)
    }

    @Test func theActionIsReadStrictlyAndPassesInputsOnlyThroughEnv() throws {
        let action = try CompositeAction(path: Self.actionFile)
        let inputs = Dictionary(uniqueKeysWithValues: action.inputs.map { ($0.name, $0) })
        for name in ["version", "sha256", "release-url", "policies", "strict", "sarif", "base-ref", "fail-on-widening"] {
            #expect(inputs[name] != nil, "input \(name)")
        }
        #expect(inputs["version"]?.required == true)
        #expect(inputs["fail-on-widening"]?.defaultValue == "true")
        #expect(action.steps.map(\.id) == ["install", "lint", "test", "diff"])
        // Every env value is exactly one declared input: nothing else is spliced.
        for step in action.steps {
            for (_, value) in step.env {
                let name = value.replacingOccurrences(of: "${{ inputs.", with: "").replacingOccurrences(of: " }}", with: "")
                #expect(value.hasPrefix("${{ inputs.") && inputs[name] != nil, "\(step.name): \(value)")
            }
        }
    }

    @Test func theReaderRefusesWhatItDoesNotUnderstand() {
        let hostile = [
            "a: 1\na: 2\n",                      // duplicate key
            "a:\n\tb: 1\n",                      // tab
            "a: [1, 2]\n",                       // flow sequence
            "a: &x 1\n",                         // anchor
            "a: b: c\n",                         // `: ` in a plain scalar
            "a: \"open\n",                       // unterminated quote
            "a:\n  b: 1\n c: 2\n",               // odd indentation
            "  a: 1\n",                          // indented document
            "a:\n  - 1\n",                       // a list of scalars
            "a: |\nb: 1\n",                      // empty block scalar
            String(repeating: "a", count: 100_000) + "\n",  // no key
        ]
        for text in hostile {
            #expect(throws: MiniYAML.ParseError.self, "\(text.prefix(40))") { try MiniYAML.parse(text) }
        }
        #expect(throws: CompositeAction.ReadError.self) {
            try CompositeAction.substitute("${{ github.event.pull_request.title }}", inputs: [:], stepOutputs: [:])
        }
        #expect(throws: CompositeAction.ReadError.self) { try CompositeAction.substitute("${{ inputs.x", inputs: ["x": "1"], stepOutputs: [:]) }
    }

    @Test func lintAndTestPassAndAWideningFailsTheJobWithTheSummaryNamingIt() throws {
        guard Self.toolsPresent() else { return }
        let world = try Self.pullRequestWorld()
        defer { world.remove() }
        let release = try Release(in: world.dir + "/.release")
        let job = try Self.run(["version": release.version, "release-url": "file://" + release.dir,
                                "sha256": try release.sha256(), "base-ref": "main"], in: world)
        #expect(job.steps.map(\.status) == [0, 0, 0, 1], "\(job.log)")
        #expect(!job.succeeded)
        #expect(job.pathAdditions.count == 1 && job.pathAdditions[0].hasSuffix("/bin"), "\(job.pathAdditions)")
        #expect(job.outputs["widens"] == "true")
        #expect(job.outputs["warden"]?.hasPrefix(world.dir + "/.runner-temp/warden-install/") == true)

        // Lint: SARIF written and clean; test: every expectation held.
        let sarifPath = world.dir + "/" + (job.outputs["sarif"] ?? "")
        #expect(job.outputs["sarif"] == "warden.sarif")
        let sarif = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sarifPath))) as? [String: Any]
        #expect(sarif?["version"] as? String == "2.1.0")
        let results = ((sarif?["runs"] as? [[String: Any]])?.first?["results"] as? [Any]) ?? ["missing"]
        #expect(results.isEmpty, "\(results)")
        #expect(job.steps[2].stdout.contains(" passed, 0 failed"), "\(job.steps[2].stdout)")

        // The summary: lint, test, and the review naming the widening.
        #expect(job.summary.contains("### warden lint: clean"))
        #expect(job.summary.contains("### warden test: every expectation holds"))
        #expect(job.summary.contains("## Warden policy review\n"), "\(job.summary)")
        #expect(job.summary.contains("| `policies/default.warden` | `default` | ⚠️ both | 2 |"), "\(job.summary)")
        #expect(job.summary.contains("7 other identities are equivalent."), "\(job.summary)")
        #expect(job.summary.contains("`connect tcp registry.example.org:443`"), "\(job.summary)")
        #expect(try String(contentsOfFile: job.outputs["summary"] ?? "/nonexistent", encoding: .utf8).hasPrefix("## Warden policy review"))
        // Annotations: each widening at its rule, then the error that fails the job.
        let diffLog = job.steps[3].stdout
        #expect(diffLog.contains("::warning file=policies/default.warden,line="), "\(diffLog)")
        #expect(diffLog.contains("::error title=warden diff::"), "\(diffLog)")
    }

    @Test func reportOnlyAndNoBaseDoNotFailTheJob() throws {
        guard Self.toolsPresent() else { return }
        let world = try Self.pullRequestWorld()
        defer { world.remove() }
        let release = try Release(in: world.dir + "/.release")
        // fail-on-widening: false; the release from a directory path.
        let reported = try Self.run(["version": release.version, "release-url": release.dir,
                                     "base-ref": "main", "fail-on-widening": "false", "sarif": ""], in: world)
        #expect(reported.succeeded, "\(reported.log)")
        #expect(reported.outputs["widens"] == "true" && reported.outputs["sarif"] == "")
        #expect(reported.steps[3].stdout.contains("::notice title=warden diff::"))
        #expect(reported.summary.contains("`connect tcp registry.example.org:443`"))
        #expect(!FileManager.default.fileExists(atPath: world.dir + "/warden.sarif"))
        // No base-ref: lint and test only; strict off (no --strict: an empty flag list).
        let plain = try Self.run(["version": release.version, "release-url": release.dir, "strict": "false"], in: world)
        #expect(plain.succeeded && plain.outputs["widens"] == "false" && plain.outputs["summary"] == "", "\(plain.log)")
        #expect(plain.steps.count == 4)
        #expect(!plain.summary.contains("Warden policy review"))
        // A base that does not widen: success, widens=false.
        let same = try Self.run(["version": release.version, "release-url": release.dir, "base-ref": "HEAD"], in: world)
        #expect(same.succeeded && same.outputs["widens"] == "false", "\(same.log)")
        #expect(same.summary.contains("## Warden policy review"))
        // Inputs that would turn into options are refused, not passed on.
        for (input, value, reason) in [("policies", "--config=/etc/x policies", "starts with '-'"), ("policies", " \n ", "names no path"),
                                       ("strict", "maybe", "strict must be true or false"), ("base-ref", "--upload-pack=x", "must not start with '-'")] {
            let job = try Self.run(["version": release.version, "release-url": release.dir, input: value], in: world)
            #expect(!job.succeeded && job.steps.last?.stdout.contains(reason) == true, "\(input)=\(value): \(job.log)")
        }
    }

    @Test func aFailingLintStopsTheJobWithFindingsInTheSARIF() throws {
        guard Self.toolsPresent() else { return }
        let world = try Self.pullRequestWorld(widen: false)
        defer { world.remove() }
        try world.write("policies/broken.warden", "warden 1\n\nidentity broken {\n  allow fs read \"relative/path\"\n}\n")
        try world.commit("broken policy")
        let release = try Release(in: world.dir + "/.release")
        let job = try Self.run(["version": release.version, "release-url": release.dir, "base-ref": "main"], in: world)
        #expect(job.steps.map(\.status) == [0, 1], "\(job.log)")
        #expect(job.steps[1].stdout.contains("::error file=policies/broken.warden"), "\(job.steps[1].stdout)")
        let sarif = try String(contentsOfFile: world.dir + "/warden.sarif", encoding: .utf8)
        #expect(sarif.contains("policies/broken.warden"))
        #expect(job.summary.contains("### warden lint: findings"))
    }

    /// Each broken or hostile release fails the install step; no later step runs and
    /// nothing is unpacked or put on PATH.
    @Test func aTamperedOrForeignReleaseFailsTheInstallBeforeAnythingRuns() throws {
        guard Self.toolsPresent() else { return }
        let world = try Self.pullRequestWorld()
        defer { world.remove() }
        let release = try Release(in: world.dir + "/.release")
        let goodSum = try release.sha256()

        func expectRefused(_ inputs: [String: String], _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try? FileManager.default.removeItem(atPath: world.dir + "/.runner-temp")
            let job = try Self.run(inputs, in: world)
            #expect(job.steps.count == 1 && job.steps[0].status != 0, "\(job.log)", sourceLocation: sourceLocation)
            #expect(job.steps[0].stdout.contains(reason), "\(job.log)", sourceLocation: sourceLocation)
            #expect(job.pathAdditions.isEmpty && job.outputs["warden"] == "", sourceLocation: sourceLocation)
            #expect(!FileManager.default.fileExists(atPath: world.dir + "/.runner-temp/warden-install"), sourceLocation: sourceLocation)
            #expect(!FileManager.default.fileExists(atPath: world.dir + "/warden.sarif"), sourceLocation: sourceLocation)
        }

        let base = ["version": release.version, "release-url": "file://" + release.dir, "base-ref": "main"]
        // A pin that SHA256SUMS does not list (a replaced release).
        try expectRefused(base.merging(["sha256": String(repeating: "a", count: 64)]) { $1 }, "the pinned sha256 is")
        try expectRefused(base.merging(["sha256": "not-hex"]) { $1 }, "sha256 must be 64")
        try expectRefused(base.merging(["version": "../../etc"]) { $1 }, "is not a release version")
        try expectRefused(base.merging(["release-url": "ftp://example.org/warden"]) { $1 }, "must be https://, file://")
        try expectRefused(base.merging(["release-url": "file://" + world.dir + "/nowhere"]) { $1 }, "cannot download")
        // SHA256SUMS without the tarball's line.
        let sums = release.dir + "/SHA256SUMS"
        let published = try String(contentsOfFile: sums, encoding: .utf8)
        try published.split(separator: "\n").filter { !$0.hasSuffix(".tar.gz") }.joined(separator: "\n").write(toFile: sums, atomically: true, encoding: .utf8)
        try expectRefused(base, "lists no single checksum")
        try published.write(toFile: sums, atomically: true, encoding: .utf8)
        // The tampered tarball, with and without a pin.
        try release.tamper()
        try expectRefused(base, "does not match its SHA-256 in SHA256SUMS")
        try expectRefused(base.merging(["sha256": goodSum]) { $1 }, "does not match its SHA-256 in SHA256SUMS")

        // A consistent release whose tarball reaches outside its directory.
        let foreign = try Release(in: world.dir + "/.foreign", extraEntry: "elsewhere/evil")
        try expectRefused(base.merging(["release-url": foreign.dir]) { $1 }, "holds an entry outside")
    }
}
