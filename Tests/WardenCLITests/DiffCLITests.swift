import Foundation
import Testing

/// `warden diff` end to end: golden outputs for every domain (each checked by reasoning
/// about the two versions, see the comments), exit codes, formats, directories, git
/// revisions and errors. Warden runs in a temporary directory holding the versions, so
/// file names in the output are the relative names written there.
@Suite struct DiffCLITests {
    /// Writes `old` and `new` (old.warden, new.warden) and runs `warden diff old.warden new.warden EXTRA`.
    func compare(_ old: String, _ new: String, _ extra: [String] = []) throws -> WardenBinary.Result? {
        let world = try DiffWorld()
        defer { world.remove() }
        try world.write("old.warden", old)
        try world.write("new.warden", new)
        return try world.diff(["old.warden", "new.warden"] + extra)
    }

    /// `DiffPolicies.v1` with `before` replaced by `after` (which must occur).
    func variant(_ before: String, _ after: String) -> String {
        #expect(DiffPolicies.v1.contains(before), "fixture has no `\(before)`")
        return DiffPolicies.v1.replacingOccurrences(of: before, with: after)
    }

    // MARK: - Verdicts and exit codes

    @Test func theSamePolicyIsEquivalentAndExitsZero() throws {
        guard let r = try compare(DiffPolicies.v1, DiffPolicies.v1) else { return }
        #expect(r.status == 0)
        #expect(r.stdout == """
        new.warden
          identity builder: equivalent
          identity reader: equivalent
          identity solo: equivalent
        3 identities in 1 file: 3 equivalent. Nothing widens.

        """)
    }

    @Test func provenanceAloneChangesNothing() throws {
        // Every line moves (a comment on top), the set is renamed, a `because` is added and
        // solo's rule moves into a set of its own: the same decisions everywhere.
        let moved = """
        warden 1
        # moved and renamed

        permissions toolbox {
          allow fs read, exec "/usr" because "the toolchain"
        }

        permissions host-name {
          allow fs read "/etc/hostname"
        }

        identity builder {
          use toolbox
          allow fs read, write "${workspace}"
          limit processes 64
          env pass PATH
        }

        identity reader {
          allow fs read "${workspace}"
          use toolbox
        }

        identity solo {
          use host-name
        }

        """
        guard let r = try compare(DiffPolicies.v1, moved) else { return }
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("3 identities in 1 file: 3 equivalent. Nothing widens.\n"), "\(r.stdout)")
    }

    @Test func anAddedIdentityWidensAndARemovedOneNarrows() throws {
        let added = variant("identity solo {", "identity extra {\n  allow fs read \"/etc\"\n}\n\nidentity solo {")
        guard let r = try compare(DiffPolicies.v1, added) else { return }
        #expect(r.status == 1)
        #expect(r.stdout == """
        new.warden
          identity builder: equivalent
          identity extra: wider, added (1 widening)
            + [identity] identity extra exists
              allowed (the identity exists)
              before: the identity did not exist
          identity reader: equivalent
          identity solo: equivalent
        4 identities in 1 file: 1 wider, 3 equivalent. Something widens (exit 1).

        """)
        guard let back = try compare(added, DiffPolicies.v1) else { return }
        #expect(back.status == 0, "a removal only narrows")
        #expect(back.stdout.contains("""
          identity extra: narrower, removed (1 narrowing)
            - [identity] identity extra exists
              the identity no longer exists
              before: allowed (the identity exists)
        """))
    }

    @Test func aChangeInASharedPermissionSetWidensEveryIdentityUsingIt() throws {
        // builder and reader use `tools`; solo does not. /opt was readable by nobody.
        let new = variant("  allow fs read, exec \"/usr\"\n", "  allow fs read, exec \"/usr\"\n  allow fs read \"/opt\"\n")
        guard let r = try compare(DiffPolicies.v1, new) else { return }
        #expect(r.status == 1)
        #expect(r.stdout == """
        new.warden
          identity builder: wider (1 widening)
            + [filesystem] read /opt
              witness: warden explain new.warden --identity builder --fs read /opt
              allowed by allow fs read "/opt" (new.warden:5, via tools)
              before: no rule allowed it
          identity reader: wider (1 widening)
            + [filesystem] read /opt
              witness: warden explain new.warden --identity reader --fs read /opt
              allowed by allow fs read "/opt" (new.warden:5, via tools)
              before: no rule allowed it
          identity solo: equivalent
        3 identities in 1 file: 2 wider, 1 equivalent. Something widens (exit 1).

        """)
    }

    @Test func aCombinedChangeIsBothAndStillExitsOne() throws {
        // builder loses write on the workspace and gains a registry: both directions.
        let new = variant("  allow fs read, write \"${workspace}\"\n  limit processes 64",
                          "  allow fs read \"${workspace}\"\n  allow net connect tcp \"registry.example.org:443\"\n  limit processes 64")
        guard let r = try compare(DiffPolicies.v1, new) else { return }
        #expect(r.status == 1)
        #expect(r.stdout == """
        new.warden
          identity builder: both (2 widenings, 1 narrowing)
            + [network] connect tcp registry.example.org:443
              witness: warden explain new.warden --identity builder --connect tcp registry.example.org:443
              allowed by allow net connect tcp "registry.example.org:443" (new.warden:10)
              before: no rule allowed it
            + [network] DNS lookup of registry.example.org
              allowed by allow net connect tcp "registry.example.org:443" (new.warden:10)
              before: no rule allowed it
            - [filesystem] write ${workspace}
              witness: warden explain new.warden --identity builder --fs write '${workspace}'
              no rule allows it
              before: allowed by allow fs read, write "${workspace}" (old.warden:9)
          identity reader: equivalent
          identity solo: equivalent
        3 identities in 1 file: 1 both, 2 equivalent. Something widens (exit 1).

        """)
    }

    // MARK: - Every domain

    /// One added line in solo (or a replaced line), the witness lines expected for it.
    struct DomainCase: CustomTestStringConvertible, Sendable {
        var domain: String
        var before: String
        var after: String
        var expected: String
        var testDescription: String { domain }
    }

    static let solo = "  allow fs read \"/etc/hostname\"\n"

    static let domainCases: [DomainCase] = [
        // solo could read /etc/hostname only; /etc itself is the simplest new path.
        DomainCase(domain: "filesystem", before: solo, after: "  allow fs read \"/etc\"\n", expected: """
            + [filesystem] read /etc
              witness: warden explain new.warden --identity solo --fs read /etc
              allowed by allow fs read "/etc" (new.warden:20)
              before: no rule allowed it
        """),
        // No network before (no rules: loopback only); 10.0.0.0 is the lowest address of the range.
        DomainCase(domain: "network", before: solo, after: solo + "  allow net connect tcp \"10.0.0.0/8:443\"\n", expected: """
            + [network] connect tcp 10.0.0.0:443
              witness: warden explain new.warden --identity solo --connect tcp 10.0.0.0:443
              allowed by allow net connect tcp "10.0.0.0/8:443" (new.warden:21)
              before: no rule allowed it
        """),
        // An https rule brokers the host's connections, answers its DNS lookups and allows
        // the request; `**` matches zero segments, so the shortest path is the prefix itself.
        DomainCase(domain: "http", before: solo, after: solo + "  allow https GET \"api.github.com/repos/acme/app/**\"\n", expected: """
          identity solo: wider (3 widenings)
            + [network] connect tcp api.github.com:443
              witness: warden explain new.warden --identity solo --connect tcp api.github.com:443
              allowed by allow https GET "api.github.com/repos/acme/app/**" (new.warden:21)
              before: no rule allowed it
            + [network] DNS lookup of api.github.com
              allowed by allow https GET "api.github.com/repos/acme/app/**" (new.warden:21)
              before: no rule allowed it
            + [http] GET https://api.github.com/repos/acme/app
              witness: warden explain new.warden --identity solo --https GET https://api.github.com/repos/acme/app
              allowed by allow https GET "api.github.com/repos/acme/app/**" (new.warden:21)
              before: no rule allowed it
        """),
        DomainCase(domain: "git-push", before: solo, after: solo + "  allow git push \"github.com/acme/app\" ref \"refs/heads/feature/**\"\n", expected: """
            + [git-push] git push refs/heads/feature to github.com/acme/app
              witness: warden explain new.warden --identity solo --git-push github.com/acme/app refs/heads/feature
              allowed by allow git push "github.com/acme/app" ref "refs/heads/feature/**" (new.warden:21)
              before: no rule allowed it
        """),
        // ptrace had no rule; it exists on both architectures.
        DomainCase(domain: "syscall", before: solo, after: solo + "  allow syscall ptrace because \"debugger tests\"\n", expected: """
            + [syscall] syscall ptrace
              witness: warden explain new.warden --identity solo --syscall ptrace
              allowed by allow syscall ptrace because "debugger tests" (new.warden:21)
              before: no rule allowed it
              note: exists on x86_64 and aarch64
        """),
        DomainCase(domain: "capability", before: solo, after: solo + "  allow capability NET_RAW because \"ping\"\n", expected: """
            + [capability] capability CAP_NET_RAW
              witness: warden explain new.warden --identity solo --capability CAP_NET_RAW
              allowed by allow capability NET_RAW because "ping" (new.warden:21)
              before: no rule allowed it
        """),
        // 65 processes: one more than the old limit, within the new one.
        DomainCase(domain: "limit", before: "  limit processes 64\n", after: "  limit processes 128\n", expected: """
          identity builder: wider (1 widening)
            + [limit] use 65 of processes
              allowed by limit processes 128 (new.warden:10)
              before: denied by limit processes 64 (old.warden:10)
              note: limit processes: 64 before, 128 now
        """),
        DomainCase(domain: "limit removed", before: "  limit processes 64\n", after: "", expected: """
            + [limit] use 65 of processes
              allowed (no processes limit is set)
              before: denied by limit processes 64 (old.warden:10)
              note: limit processes: 64 before, none now
        """),
        // A new pass-through and a new fixed variable; neither existed before.
        DomainCase(domain: "environment", before: "  env pass PATH\n", after: "  env pass PATH, HOME\n  env set CI = \"true\"\n", expected: """
          identity builder: wider (2 widenings)
            + [environment] receive $HOME from Warden's environment
              allowed (env pass HOME)
              before: no rule allowed it
            + [environment] receive $CI set by the policy
              allowed (env set CI)
              before: no rule allowed it
        """),
        // A cache is backed by the persistent store: the path is now reachable (read and
        // write; before, ${home} was the run's fresh home) and kept across runs.
        DomainCase(domain: "cache", before: solo, after: solo + "  cache \"${home}/.cache/pip\"\n", expected: """
            + [filesystem] read ${home}/.cache/pip
              witness: warden explain new.warden --identity solo --fs read '${home}/.cache/pip'
              allowed by cache "${home}/.cache/pip" (new.warden:21)
              before: no rule allowed it
            + [filesystem] write ${home}/.cache/pip
              witness: warden explain new.warden --identity solo --fs write '${home}/.cache/pip'
              allowed by cache "${home}/.cache/pip" (new.warden:21)
              before: no rule allowed it
            + [cache] keep ${home}/.cache/pip across runs (cache)
              allowed by cache "${home}/.cache/pip" (new.warden:21)
              before: no rule allowed it
        """),
    ]

    @Test(arguments: domainCases)
    func eachDomainReportsItsWidening(_ c: DomainCase) throws {
        let new = variant(c.before, c.after)
        guard let r = try compare(DiffPolicies.v1, new) else { return }
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains(c.expected + "\n"), "expected:\n\(c.expected)\ngot:\n\(r.stdout)")
        // The reverse change narrows and exits 0; every `+` becomes a `-`.
        guard let back = try compare(new, DiffPolicies.v1) else { return }
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        #expect(!back.stdout.contains("    + ") && back.stdout.contains("    - ["), "\(back.stdout)")
        // Each printed witness command answers as the diff says (allowed in the new version).
        let world = try DiffWorld()
        defer { world.remove() }
        try world.write("new.warden", new)
        for line in r.stdout.split(separator: "\n") where line.contains("witness: warden explain ") {
            let argv = ReadmeExamplesTests.words(String(line.split(separator: ":", maxSplits: 1)[1])).dropFirst()
            guard let e = try WardenBinary.run(Array(argv), in: world.dir) else { return }
            #expect(e.status == 0, "\(line) is not allowed:\n\(e.stdout)\(e.stderr)")
        }
    }

    @Test func secretsInjectedAndPlaceholdersWiden() throws {
        let old = """
        warden 1

        secret gh from env "WARDEN_GH"

        identity api {
          allow https GET "api.github.com/repos/acme/**"
        }

        """
        let new = old.replacingOccurrences(of: "\"api.github.com/repos/acme/**\"\n",
                                           with: "\"api.github.com/repos/acme/**\" with bearer gh\n  env placeholder GH_TOKEN = gh\n")
        guard let r = try compare(old, new) else { return }
        #expect(r.status == 1)
        // The same request was allowed before, without the secret: now it carries it.
        #expect(r.stdout == """
        new.warden
          identity api: wider (2 widenings)
            + [secret] GET https://api.github.com/repos/acme carrying secret gh
              witness: warden explain new.warden --identity api --https GET https://api.github.com/repos/acme
              allowed by allow https GET "api.github.com/repos/acme/**" with bearer gh (new.warden:6)
              before: allowed without secret gh, by allow https GET "api.github.com/repos/acme/**" (old.warden:6)
            + [secret] receive a placeholder of secret gh in $GH_TOKEN
              allowed (env placeholder GH_TOKEN = gh)
              before: no rule allowed it
        1 identity in 1 file: 1 wider. Something widens (exit 1).

        """)
    }

    @Test func oneIdentityOnly() throws {
        let new = variant("  allow fs read, exec \"/usr\"\n", "  allow fs read, exec \"/usr\"\n  allow fs read \"/opt\"\n")
        guard let r = try compare(DiffPolicies.v1, new, ["--identity", "reader"]) else { return }
        #expect(r.status == 1)
        #expect(r.stdout.contains("identity reader: wider") && !r.stdout.contains("builder") && !r.stdout.contains("solo"), "\(r.stdout)")
        guard let solo = try compare(DiffPolicies.v1, new, ["--identity", "solo"]) else { return }
        #expect(solo.status == 0)
    }

    // MARK: - Formats

    static let widened = (DiffPolicies.v1, DiffPolicies.v1.replacingOccurrences(
        of: "  allow fs read, exec \"/usr\"\n", with: "  allow fs read, exec \"/usr\"\n  allow fs read \"/opt\"\n"))

    @Test func jsonFollowsTheDocumentedSchema() throws {
        guard let r = try compare(Self.widened.0, Self.widened.1, ["--format", "json"]) else { return }
        #expect(r.status == 1)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(root.keys.sorted() == ["files", "summary", "version", "widens"])
        #expect(root["version"] as? Int == 1 && root["widens"] as? Bool == true)
        #expect(root["summary"] as? [String: Int] == ["equivalent": 1, "narrower": 0, "wider": 2, "both": 0])
        let files = try #require(root["files"] as? [[String: Any]])
        #expect(files.count == 1 && files[0]["name"] as? String == "new.warden" && files[0]["old"] as? String == "old.warden")
        let identities = try #require(files[0]["identities"] as? [[String: Any]])
        #expect(identities.map { $0["identity"] as? String } == ["builder", "reader", "solo"])
        #expect(identities.map { $0["verdict"] as? String } == ["wider", "wider", "equivalent"])
        for i in identities {
            #expect(Set(i.keys) == ["identity", "status", "verdict", "declaration", "widenings", "narrowings"])
        }
        let w = try #require((identities[0]["widenings"] as? [[String: Any]])?.first)
        #expect(Set(w.keys) == ["domain", "action", "explain", "old", "new", "note"])
        #expect(w["domain"] as? String == "filesystem" && w["action"] as? String == "read /opt")
        #expect(w["explain"] as? [String] == ["warden", "explain", "new.warden", "--identity", "builder", "--fs", "read", "/opt"])
        #expect(w["note"] is NSNull)
        let new = try #require(w["new"] as? [String: Any]), old = try #require(w["old"] as? [String: Any])
        #expect(new["effect"] as? String == "allow" && old["effect"] as? String == "deny")
        #expect((old["rules"] as? [Any])?.isEmpty == true)
        let rule = try #require((new["rules"] as? [[String: Any]])?.first)
        #expect(rule["file"] as? String == "new.warden" && rule["line"] as? Int == 5 && rule["via"] as? [String] == ["tools"])
        #expect(rule["rule"] as? String == "allow fs read \"/opt\"")
    }

    @Test func sarifIsValidStructureWithOneResultPerWidening() throws {
        guard let r = try compare(Self.widened.0, Self.widened.1, ["--format", "sarif"]) else { return }
        #expect(r.status == 1)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(root["version"] as? String == "2.1.0")
        #expect((root["$schema"] as? String)?.hasSuffix("sarif-schema-2.1.0.json") == true)
        let runs = try #require(root["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "warden")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let ids = rules.compactMap { $0["id"] as? String }
        #expect(ids.count == 12 && Set(ids).count == 12 && ids.allSatisfy { $0.hasPrefix("widening/") })  // one rule per diff domain
        for rule in rules {
            #expect((rule["shortDescription"] as? [String: Any])?["text"] is String)
            #expect((rule["defaultConfiguration"] as? [String: Any])?["level"] as? String == "warning")
        }
        let results = try #require(runs[0]["results"] as? [[String: Any]])
        #expect(results.count == 2, "one per widening: builder and reader")
        for result in results {
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(result["ruleId"] as? String == "widening/filesystem" && ids[index] == "widening/filesystem")
            #expect(result["level"] as? String == "warning")
            #expect(((result["message"] as? [String: Any])?["text"] as? String)?.contains("read /opt") == true)
            let location = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            let artifact = try #require(location["artifactLocation"] as? [String: Any])
            #expect(artifact["uri"] as? String == "new.warden" && artifact["uriBaseId"] as? String == "%SRCROOT%")
            #expect((location["region"] as? [String: Any])?["startLine"] as? Int == 5)
            #expect((result["partialFingerprints"] as? [String: String])?["wardenWidening/v1"]?.count == 16)
        }
    }

    @Test func githubAnnotationsOnePerWideningAtTheAllowingRule() throws {
        guard let r = try compare(Self.widened.0, Self.widened.1, ["--format", "github"]) else { return }
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        for (line, who) in zip(lines, ["builder", "reader"]) {
            #expect(line.hasPrefix("::warning file=new.warden,line=5,col=17,title=widening/filesystem%3A \(who)::identity \(who) may now: read /opt."), "\(line)")
        }
        // An added identity is annotated at its declaration.
        let added = DiffPolicies.v1 + "identity extra {\n  env pass HOME\n}\n"
        guard let a = try compare(DiffPolicies.v1, added, ["--format", "github"]) else { return }
        #expect(a.stdout.hasPrefix("::warning file=new.warden,line=22,col=10,title=widening/identity%3A extra::"), "\(a.stdout)")
    }

    @Test func markdownSummaryTableAndDetails() throws {
        guard let r = try compare(Self.widened.0, Self.widened.1, ["--format", "markdown"]) else { return }
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix("## Warden policy review\n\n**Some identity can do something it could not do before**"))
        #expect(r.stdout.contains("""
        | Policy | Identity | Verdict | Widenings | Narrowings |
        |---|---|---|---:|---:|
        | `new.warden` | `builder` | ⚠️ wider | 1 | 0 |
        | `new.warden` | `reader` | ⚠️ wider | 1 | 0 |

        1 other identity is equivalent.
        """), "\(r.stdout)")
        #expect(r.stdout.contains("""
        #### `builder` in `new.warden`: ⚠️ wider

        - ➕ now allowed (filesystem): `read /opt`  
          now: `allowed by allow fs read "/opt" (new.warden:5, via tools)`  
          before: `no rule allowed it`  
          witness: `warden explain new.warden --identity builder --fs read /opt`
        """), "\(r.stdout)")
        guard let same = try compare(DiffPolicies.v1, DiffPolicies.v1, ["--format", "markdown"]) else { return }
        #expect(same.status == 0)
        #expect(same.stdout == "## Warden policy review\n\nNo identity can do anything it could not do before.\n\n3 identities compared: all equivalent.\n")
    }

    @Test func markdownKeepsPolicyTextInsideCodeSpans() throws {
        // A path with a backtick, a pipe and HTML: it stays one code span in one table cell.
        let new = variant(Self.solo, Self.solo + "  allow fs read \"/srv/a`b|<img src=x>\"\n")
        guard let r = try compare(DiffPolicies.v1, new, ["--format", "markdown"]) else { return }
        #expect(r.status == 1)
        #expect(r.stdout.contains("``read /srv/a`b\\|<img src=x>``"), "\(r.stdout)")
        for line in r.stdout.split(separator: "\n") where line.contains("<img") {
            // Outside code spans there is no raw HTML: every occurrence is inside a ``...`` span.
            #expect(line.contains("``"), "\(line)")
        }
    }

    // MARK: - Directories

    @Test func directoriesPairFilesByRelativePath() throws {
        let world = try DiffWorld()
        defer { world.remove() }
        try world.copyStockPolicies(to: "old")
        try world.copyStockPolicies(to: "new")
        // One word out of a deny list in base.warden (included by every stock policy):
        // every identity may now read /etc/ssh, which `allow fs read "/etc"` covers.
        let base = try world.read("new/base.warden")
        #expect(base.contains(", \"/etc/ssh\", \"/etc/ssl/private\""))
        try world.write("new/base.warden", base.replacingOccurrences(of: ", \"/etc/ssh\", \"/etc/ssl/private\"", with: ", \"/etc/ssl/private\""))
        try world.delete("new/lint-fixer.warden")
        try world.write("new/extra/probe.warden", "warden 1\nidentity probe {\n  allow fs read \"/etc/hostname\"\n}\n")
        guard let r = try world.diff(["old", "new"]) else { return }
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.hasSuffix("9 identities in 10 files: 8 wider, 1 narrower. Something widens (exit 1).\n"), "\(r.stdout)")
        #expect(r.stdout.contains("""
        default.warden
          identity default: wider (1 widening)
            + [filesystem] read /etc/ssh
              witness: warden explain new/default.warden --identity default --fs read /etc/ssh
              allowed by allow fs read "/etc" (new/base.warden:11, via toolchains → toolchain)
        """), "\(r.stdout)")
        #expect(r.stdout.contains("extra/probe.warden (new file)\n  identity probe: wider, added (1 widening)\n"))
        #expect(r.stdout.contains("lint-fixer.warden (deleted)\n  identity lint-fixer: narrower, removed (1 narrowing)\n"))
        #expect(!r.stdout.contains("base.warden\n"), "a file without identities is not listed")
        // The stock policies against themselves: all equivalent.
        guard let same = try world.diff(["old", "old"]) else { return }
        #expect(same.status == 0 && same.stdout.hasSuffix("8 identities in 9 files: 8 equivalent. Nothing widens.\n"), "\(same.stdout)")
    }

    @Test func fileNamesAreEscapedForTheTerminal() throws {
        let world = try DiffWorld()
        defer { world.remove() }
        try world.write("a/x.warden", DiffPolicies.v1)
        try world.write("b/x.warden", DiffPolicies.v1)
        try world.write("b/evil\u{1B}[2J\u{1B}]0;owned\u{07}.warden", "warden 1\nidentity e {\n  allow fs read \"/etc/hostname\"\n}\n")
        guard let r = try world.diff(["a", "b"]) else { return }
        #expect(r.status == 1)
        #expect(!r.stdout.contains("\u{1B}") && !r.stdout.contains("\u{07}"), "raw control characters in: \(r.stdout.debugDescription)")
        #expect(r.stdout.contains("evil\\x1b[2J"), "\(r.stdout.debugDescription)")
    }

    // MARK: - Git revisions

    @Test func gitRevisionAgainstTheWorkTreeAndAnotherRevision() throws {
        let world = try DiffWorld()
        defer { world.remove() }
        try world.git(["init", "-q", "-b", "main"])
        let main = DiffPolicies.v1.replacingOccurrences(of: "warden 1\n", with: "warden 1\ninclude \"lib.warden\"\n")
            .replacingOccurrences(of: "  use tools\n", with: "  use tools, shared\n")
        try world.write("p/main.warden", main)
        try world.write("p/lib.warden", "warden 1\npermissions shared {\n  allow fs read \"/srv\"\n}\n")
        try world.commit("v1")
        guard let same = try world.diff(["--base", "HEAD", "p"]) else { return }
        #expect(same.status == 0 && same.stdout.hasSuffix("3 identities in 2 files: 3 equivalent. Nothing widens.\n"), "\(same.stdout)\(same.stderr)")

        // The included file changes in the work tree: the includer's identities widen, read
        // at HEAD on the old side (the include too) and from disk on the new side.
        try world.write("p/lib.warden", "warden 1\npermissions shared {\n  allow fs read \"/srv\", \"/opt\"\n}\n")
        guard let r = try world.diff(["--base", "HEAD", "p/main.warden"]) else { return }
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout == """
        p/main.warden
          identity builder: wider (1 widening)
            + [filesystem] read /opt
              witness: warden explain p/main.warden --identity builder --fs read /opt
              allowed by allow fs read "/srv", "/opt" (p/lib.warden:3, via shared)
              before: no rule allowed it
          identity reader: wider (1 widening)
            + [filesystem] read /opt
              witness: warden explain p/main.warden --identity reader --fs read /opt
              allowed by allow fs read "/srv", "/opt" (p/lib.warden:3, via shared)
              before: no rule allowed it
          identity solo: equivalent
        3 identities in 1 file: 2 wider, 1 equivalent. Something widens (exit 1).

        """)
        try world.commit("v2")
        // Two revisions, the work tree ignored (it is back to v1 here).
        try world.write("p/lib.warden", "warden 1\npermissions shared {\n  allow fs read \"/srv\"\n}\n")
        guard let revs = try world.diff(["--base", "HEAD~1", "--head", "HEAD", "p", "--format", "json"]) else { return }
        #expect(revs.status == 1, "\(revs.stderr)")
        #expect(revs.stdout.contains("\"action\": \"read /opt\""))
        guard let wt = try world.diff(["--base", "HEAD", "p"]) else { return }
        #expect(wt.status == 0, "the work tree narrows back: \(wt.stdout)")

        // A file missing at the base revision did not exist: its identities are added.
        try world.write("p/new.warden", "warden 1\nidentity n {\n  allow fs read \"/x\"\n}\n")
        guard let added = try world.diff(["--base", "HEAD", "p/new.warden"]) else { return }
        #expect(added.status == 1)
        #expect(added.stdout.hasPrefix("p/new.warden (new file)\n  identity n: wider, added (1 widening)\n"), "\(added.stdout)")
        // From inside the directory, with a relative path: HEAD~1 is v1 like the work tree's
        // lib.warden, so main.warden is equivalent; new.warden is not committed anywhere.
        guard let inside = try WardenBinary.run(["diff", "--base", "HEAD~1", "."], in: world.dir + "/p") else { return }
        #expect(inside.status == 1)
        #expect(inside.stdout.hasPrefix("main.warden\n  identity builder: equivalent\n") && inside.stdout.contains("\nnew.warden (new file)\n"), "\(inside.stdout)")
        guard let insideHead = try WardenBinary.run(["diff", "--base", "HEAD~1", "--head", "HEAD", "."], in: world.dir + "/p") else { return }
        #expect(insideHead.status == 1)
        #expect(insideHead.stdout.contains("main.warden\n  identity builder: wider") && !insideHead.stdout.contains("new.warden"), "\(insideHead.stdout)")
    }

    @Test func gitErrorsExitTwo() throws {
        let world = try DiffWorld()
        defer { world.remove() }
        try world.write("p.warden", DiffPolicies.v1)
        guard let notRepo = try world.diff(["--base", "HEAD", "p.warden"]) else { return }
        #expect(notRepo.status == 2 && notRepo.stderr.contains("not in a git repository"), "\(notRepo.stderr)")
        try world.git(["init", "-q", "-b", "main"])
        try world.commit("v1")
        for (args, message) in [
            (["--base", "no-such-branch", "p.warden"], "unknown revision `no-such-branch`"),
            (["--base", "HEAD", "--head", "nope", "p.warden"], "unknown revision `nope`"),
            (["--base=-x", "p.warden"], "`-x` is not a revision"),
            (["--base", "HEAD", "missing.warden"], "missing.warden: exists neither at HEAD nor in the work tree"),
            (["--base", "HEAD", "/etc/hostname"], "not in a git repository"),
        ] {
            guard let r = try world.diff(args) else { return }
            #expect(r.status == 2, "\(args): \(r.status)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
        // An invalid policy at the base revision: its diagnostics, then exit 2.
        try world.write("p.warden", "warden 1\nidentity x {\n  allow fs reed \"/x\"\n}\n")
        try world.commit("broken")
        try world.write("p.warden", DiffPolicies.v1)
        guard let broken = try world.diff(["--base", "HEAD", "p.warden"]) else { return }
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("p.warden:3:12: error[syntax-error]") && broken.stderr.contains("the old version (HEAD:p.warden) has 1 error"), "\(broken.stderr)")
    }

    // MARK: - Errors

    @Test func errorsExitTwoWithAClearMessageAndNoOutput() throws {
        let world = try DiffWorld()
        defer { world.remove() }
        try world.write("ok.warden", DiffPolicies.v1)
        try world.write("bad.warden", "warden 1\nidentity x {\n  allow fs reed \"/x\"\n}\n")
        try world.write("dir/ok.warden", DiffPolicies.v1)
        let cases: [([String], String)] = [
            (["ok.warden", "missing.warden"], "missing.warden: no such file or directory"),
            (["bad.warden", "ok.warden"], "the old version (bad.warden) has 1 error"),
            (["ok.warden", "bad.warden"], "the new version (bad.warden) has 1 error"),
            (["ok.warden", "ok.warden", "--identity", "zz"], "no identity named `zz` in either version"),
            (["ok.warden", "dir"], "compare two files or two directories, not a file with a directory"),
            (["-", "-"], "`-` (standard input) can stand for one of OLD and NEW, not both"),
            (["-", "dir"], "compare standard input (`-`) with a file, not a directory"),
            (["ok.warden"], "give OLD and NEW"),
            (["ok.warden", "ok.warden", "--head", "HEAD"], "--head needs --base"),
            (["ok.warden", "ok.warden", "--format", "yaml"], "yaml"),
        ]
        for (args, message) in cases {
            guard let r = try world.diff(args) else { return }
            #expect(r.status == 2, "\(args): \(r.status)\n\(r.stderr)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args): \(r.stdout)")
        }
        // The invalid policy's diagnostic is shown, located.
        guard let r = try world.diff(["bad.warden", "ok.warden"]) else { return }
        #expect(r.stderr.contains("bad.warden:3:12: error[syntax-error]"))
    }

    @Test func aPolicyWithTerminalEscapesIsRefusedAndNotEchoed() throws {
        let new = variant(Self.solo, "  allow fs read \"/srv/\u{1B}[31mx\"\n")
        guard let r = try compare(DiffPolicies.v1, new) else { return }
        #expect(r.status == 2)
        #expect(r.stderr.contains("error[control-character]") && !r.stderr.contains("\u{1B}"), "\(r.stderr.debugDescription)")
    }
}
