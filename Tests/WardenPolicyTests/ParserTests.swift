import Testing
@testable import WardenPolicy

@Suite struct ParserTests {
    @Test func header() {
        let (file, diags) = parse("warden 1\n")
        #expect(diags.isEmpty)
        #expect(file.header?.version.value == 1)
        #expect(file.items.isEmpty)
    }

    @Test func includeItem() throws {
        let (file, diags) = parse("warden 1\ninclude \"lib/base.warden\"\n")
        #expect(diags.isEmpty)
        guard case .include(let inc)? = file.items.first else { Issue.record("no include"); return }
        #expect(inc.path.value == "lib/base.warden")
        #expect(inc.path.span.start.line == 2 && inc.path.span.start.column == 9)
    }

    @Test func permissionSetWithUseAndRules() {
        let (file, diags) = parse("warden 1\npermissions tools {\n  use base, more\n  allow fs read \"/usr\"\n}\n")
        #expect(diags.isEmpty)
        guard case .permissions(let p)? = file.items.first else { Issue.record("no set"); return }
        #expect(p.name.value == "tools")
        #expect(p.statements.count == 2)
        guard case .use(let u) = p.statements[0] else { Issue.record("no use"); return }
        #expect(u.names.map(\.value) == ["base", "more"])
        #expect(p.span.start.line == 2 && p.span.end.line == 5)
    }

    @Test func identityStatements() {
        let text = inIdentity("""
          description "does things"
          limit memory 4GiB
          limit wall-time 1h30m
          limit processes 256
          env pass PATH, HOME
          env set CI = "true"
        """)
        let (file, diags) = parse(text)
        #expect(diags.isEmpty, "\(diags)")
        let s = statements(file)
        #expect(s.count == 6)
        guard case .description(let d) = s[0], case .limit(let mem) = s[1], case .limit(let wall) = s[2],
              case .limit(let procs) = s[3], case .envPass(let pass) = s[4], case .envSet(let set) = s[5]
        else { Issue.record("wrong statement kinds: \(s)"); return }
        #expect(d.text.value == "does things")
        #expect(mem.kind == .memory && mem.value?.amount == 4 << 30)
        #expect(wall.kind == .wallTime && wall.value?.amount == 5400 && wall.value?.canonical == "1h30m")
        #expect(procs.kind == .processes && procs.value?.amount == 256)
        #expect(pass.names.map(\.value) == ["PATH", "HOME"])
        #expect(set.name.value == "CI" && set.value.value == "true")
    }

    @Test func fsRule() throws {
        let r = try #require(singleRule("  allow fs read, exec \"/usr\", \"${workspace}/src/\" because \"tools\""))
        #expect(r.effect.value == .allow)
        #expect(r.because?.value == "tools")
        guard case .fs(let fs) = r.body else { Issue.record("not fs"); return }
        #expect(fs.access.map(\.value) == [.read, .exec])
        #expect(fs.paths.map { $0.value?.description } == ["/usr", "${workspace}/src"])
        #expect(fs.paths[1].literal.value == "${workspace}/src/")
    }

    @Test func netRule() throws {
        let r = try #require(singleRule("  deny net bind udp \"*:53\", \"[::1]:8000-8080\""))
        guard case .net(let net) = r.body else { Issue.record("not net"); return }
        #expect(net.direction.value == .bind && net.proto.value == .udp)
        #expect(net.endpoints.map { $0.value?.description } == ["*:53", "[::1]:8000-8080"])
    }

    @Test func syscallRuleWithConditions() throws {
        let r = try #require(singleRule("  deny syscall @default, ptrace, socket(AF_INET, type & 0xff == 1, protocol in [0, 6 | 17]) errno EACCES"))
        guard case .syscall(let sys) = r.body else { Issue.record("not syscall"); return }
        #expect(sys.errno?.value == "EACCES")
        #expect(sys.specs.count == 3)
        #expect(sys.specs[0].isGroup && sys.specs[0].name.value == "default" && sys.specs[0].conditions == nil)
        #expect(!sys.specs[1].isGroup && sys.specs[1].conditions == nil)
        let conds = try #require(sys.specs[2].conditions)
        #expect(conds.count == 3)
        #expect(conds[0].target == .position(0))
        guard case .compare(let op, let v) = conds[0].test else { Issue.record("positional"); return }
        #expect(op.value == .equal && v.terms.first?.kind == .constant("AF_INET"))
        guard case .argument(let n1) = conds[1].target, case .masked(let mask, let value) = conds[1].test else { Issue.record("masked"); return }
        #expect(n1.value == "type" && mask.terms.first?.kind == .integer(255) && value.terms.first?.kind == .integer(1))
        guard case .oneOf(let list) = conds[2].test else { Issue.record("in"); return }
        #expect(list.count == 2 && list[1].terms.map(\.kind) == [.integer(6), .integer(17)])
    }

    @Test(arguments: [("==", CompareOperator.equal), ("!=", .notEqual), ("<", .less), ("<=", .lessEqual), (">", .greater), (">=", .greaterEqual)])
    func comparisonOperators(_ text: String, _ op: CompareOperator) throws {
        let r = try #require(singleRule("  allow syscall socket(domain \(text) 0o17)"))
        guard case .syscall(let s) = r.body, case .compare(let got, let v)? = s.specs.first?.conditions?.first?.test else {
            Issue.record("no condition"); return
        }
        #expect(got.value == op && v.terms.first?.kind == .integer(15))
    }

    @Test func capabilityRule() throws {
        let r = try #require(singleRule("  allow capability NET_BIND_SERVICE, cap_chown"))
        guard case .capability(let c) = r.body else { Issue.record("not capability"); return }
        #expect(c.names.map(\.value) == ["NET_BIND_SERVICE", "cap_chown"])
    }

    @Test func testBlock() {
        let text = """
        warden 1
        test "a test" {
          identity agent
          expect deny fs write "${workspace}/.git/hooks/x"
          expect allow net connect tcp "example.org:443"
          expect deny syscall bpf
          expect allow syscall socket(AF_INET, 1, 0)
          expect deny capability SYS_ADMIN
        }
        """
        let (file, diags) = parse(text)
        #expect(diags.isEmpty, "\(diags)")
        guard case .test(let t)? = file.items.first else { Issue.record("no test"); return }
        #expect(t.name.value == "a test")
        #expect(t.statements.count == 6)
        guard case .expect(let e) = t.statements[4], case .syscall(let n, let args) = e.target else { Issue.record("syscall"); return }
        #expect(n.value == "socket" && args?.count == 3)
        guard case .expect(let f) = t.statements[1], case .fs(let a, let p) = f.target else { Issue.record("fs"); return }
        #expect(f.effect.value == .deny && a.value == .write && p.value?.components == [".git", "hooks", "x"])
    }

    @Test func commentsAndBlankLinesAreKept() {
        let text = """
        # header comment
        warden 1

        # about tools
        # second line
        permissions tools { # open
          allow fs read "/usr"  # trailing

          # before deny
          deny fs read "/usr/secret"
          # closing
        } # after close
        # end of file
        """
        let (file, diags) = parse(text)
        #expect(diags.isEmpty, "\(diags)")
        #expect(file.header?.trivia.leadingComments.map(\.text) == ["# header comment"])
        guard case .permissions(let p)? = file.items.first else { Issue.record("no set"); return }
        #expect(p.trivia.leadingComments.map(\.text) == ["# about tools", "# second line"])
        #expect(p.trivia.leadingComments.first?.precededByBlankLine == true)
        #expect(p.trivia.precededByBlankLine == false)
        #expect(p.block.openComment?.text == "# open")
        #expect(p.trivia.trailingComment?.text == "# after close")
        #expect(p.statements[0].trivia.trailingComment?.text == "# trailing")
        #expect(p.statements[1].trivia.leadingComments.map(\.text) == ["# before deny"])
        #expect(p.statements[1].trivia.leadingComments.first?.precededByBlankLine == true)
        #expect(p.block.closingComments.map(\.text) == ["# closing"])
        #expect(file.trailingComments.map(\.text) == ["# end of file"])
    }

    @Test func blankLineBeforeItem() {
        let (file, _) = parse("warden 1\n\npermissions a {\n}\npermissions b {\n}\n")
        #expect(file.items.map(\.trivia.precededByBlankLine) == [true, false])
    }

    @Test func recoversAndReportsEveryLine() {
        let text = inIdentity("""
          allow fs frobnicate "/x"
          allow fs read "/ok"
          allow net connect "x:1"
          use
          allow syscall read(
          env frob X
          allow fs read "/fine"
        """)
        let (file, diags) = parse(text)
        #expect(locations(diags) == ["syntax-error@3:12", "syntax-error@5:21", "syntax-error@6:6", "syntax-error@7:22", "syntax-error@8:7"])
        #expect(statements(file).count == 2)
    }

    @Test func missingClosingBraceRecoversAtNextItem() {
        let (file, diags) = parse("warden 1\nidentity a {\n  allow fs read \"/x\"\nidentity b {\n}\n")
        #expect(locations(diags) == ["syntax-error@4:1"])
        #expect(file.items.count == 2)
    }

    @Test func unknownTopLevelSkipsItsBlock() {
        let (file, diags) = parse("warden 1\nidentty a {\n  allow fs read \"/x\"\n}\nidentity b {\n}\n")
        #expect(locations(diags) == ["syntax-error@2:1"])
        #expect(diags.first?.help == "did you mean `identity`?")
        #expect(file.items.count == 1)
    }

    @Test func lexerErrors() {
        let (_, diags) = parse("warden 1\nidentity a {\n  allow fs read \"/x\n  description \"a\\qb\" $\n}\n")
        #expect(locations(diags) == ["syntax-error@3:17", "syntax-error@4:17", "syntax-error@4:22"])
    }

    @Test func versionErrors() {
        #expect(locations(parse("warden 2\n").diagnostics) == ["unsupported-version@1:8"])
        #expect(locations(parse("identity a {\n}\n").diagnostics) == ["missing-version@1:1"])
        #expect(locations(parse("").diagnostics) == ["missing-version@1:1"])
        #expect(locations(parse("warden\n").diagnostics) == ["missing-version@1:1"])
    }

    @Test func columnsMatchScalarCounting() {
        let text = "warden 1\n# é ü\r\nidentity a {\n  description \"日本\" x\n}\n"
        let file = SourceFile(path: "m", text: text)
        let bytes = Array(text.utf8)
        var line = 1, column = 1
        for offset in 0...bytes.count {
            let loc = file.location(at: offset)
            #expect(loc.line == line && loc.column == column, "offset \(offset)")
            guard offset < bytes.count else { break }
            if bytes[offset] == 0x0A { line += 1; column = 1 } else if bytes[offset] & 0xC0 != 0x80 { column += 1 }
        }
        let ascii = SourceFile(path: "m", text: "ab\ncd")
        #expect(ascii.location(at: 4) == SourceLocation(offset: 4, line: 2, column: 2))
        #expect(ascii.location(at: 99) == SourceLocation(offset: 5, line: 2, column: 3))
    }

    @Test func spansAreOneBasedAndCountCharacters() {
        let (_, diags) = parse("warden 1\n# é comment\nidentity a {\n  description \"é\" x\n}\n")
        #expect(locations(diags) == ["syntax-error@4:19"])
        #expect(diags.first?.span.start.offset == "warden 1\n# é comment\nidentity a {\n  description \"é\" ".utf8.count)
    }
}
