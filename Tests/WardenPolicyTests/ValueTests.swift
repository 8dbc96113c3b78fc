import Testing
@testable import WardenPolicy

@Suite struct EndpointTests {
    @Test(arguments: [
        ("10.0.0.1:443", "10.0.0.1:443"),
        ("10.20.0.0/16:5432", "10.20.0.0/16:5432"),
        ("[::1]:8080", "[::1]:8080"),
        ("[fd00::/8]:*", "[fd00::/8]:*"),
        ("[2001:DB8:0:0:0:0:0:1]:1-1024", "[2001:db8::1]:1-1024"),
        ("[::ffff:10.0.0.1]:443", "10.0.0.1:443"),
        ("[::ffff:10.0.0.0/104]:443", "10.0.0.0/8:443"),
        ("Registry.Example.org.:443", "registry.example.org:443"),
        ("*.cdn.example.org:443", "*.cdn.example.org:443"),
        ("*:*", "*:*"),
        ("*:0-65535", "*:*"),
        ("0.0.0.0/0:53", "0.0.0.0/0:53"),
    ])
    func parsesAndNormalises(_ text: String, _ canonical: String) throws {
        let e = try Endpoint.parse(text).get()
        #expect(e.description == canonical)
    }

    @Test(arguments: [
        ("example.org", "invalid-endpoint"), ("example.org:", "invalid-port"), (":80", "invalid-endpoint"),
        ("1.2.3.4.5:80", "invalid-endpoint"), ("256.1.1.1:80", "invalid-endpoint"), ("01.1.1.1:80", "invalid-endpoint"),
        ("10.0.0.0/33:80", "invalid-endpoint"), ("10.0.0.1/24:80", "cidr-host-bits"), ("[fd00::1/64]:1", "cidr-host-bits"),
        ("[::1:80", "invalid-endpoint"), ("[::1]80", "invalid-endpoint"), ("::1:80", "invalid-endpoint"),
        ("[1:2:3:4:5:6:7:8:9]:1", "invalid-endpoint"), ("[1::2::3]:1", "invalid-endpoint"),
        ("a*.example.org:1", "invalid-endpoint"), ("-a.org:1", "invalid-endpoint"), ("a.org:65536", "invalid-port"),
        ("a.org:10-5", "reversed-port-range"), ("a.org:1-", "invalid-port"), ("a.org:-1", "invalid-port"),
    ])
    func rejects(_ text: String, _ code: String) {
        switch Endpoint.parse(text) {
        case .success(let e): Issue.record("accepted \(text) as \(e)")
        case .failure(let err): #expect(err.code == code, "\(text): \(err.message)")
        }
    }

    @Test func cidrHelpShowsNetwork() {
        guard case .failure(let e) = Endpoint.parse("192.168.1.77/24:22") else { Issue.record("accepted"); return }
        #expect(e.help == "did you mean `192.168.1.0/24`?")
        guard case .failure(let e6) = Endpoint.parse("[fd00::1/8]:22") else { Issue.record("accepted"); return }
        #expect(e6.help == "did you mean `[fd00::/8]`?")
    }

    @Test func concreteness() throws {
        #expect(try Endpoint.parse("example.org:443").get().isConcrete)
        #expect(try Endpoint.parse("[::1]:443").get().isConcrete)
        #expect(try !Endpoint.parse("example.org:1-2").get().isConcrete)
        #expect(try !Endpoint.parse("*.example.org:443").get().isConcrete)
        #expect(try !Endpoint.parse("10.0.0.0/8:443").get().isConcrete)
    }

    @Test func containment() throws {
        guard case .ipv4(let n) = try Endpoint.parse("10.20.0.0/16:1").get().host else { Issue.record("not v4"); return }
        #expect(n.contains(0x0A14_0102) && !n.contains(0x0A15_0000))
        guard case .ipv6(let n6) = try Endpoint.parse("[fd00::/8]:1").get().host else { Issue.record("not v6"); return }
        #expect(n6.contains([0xFD] + [UInt8](repeating: 1, count: 15)) && !n6.contains([UInt8](repeating: 0, count: 16)))
    }
}

@Suite struct PathTests {
    @Test(arguments: [
        ("/", "/"), ("/usr/", "/usr"), ("/usr/lib", "/usr/lib"), ("${workspace}", "${workspace}"),
        ("${home}/.ssh/", "${home}/.ssh"), ("${tmp}/", "${tmp}"), ("/a b/c", "/a b/c"),
    ])
    func normalises(_ text: String, _ canonical: String) throws {
        #expect(try PolicyPath.parse(text).get().description == canonical)
    }

    @Test(arguments: [
        ("", "relative-path"), ("usr", "relative-path"), ("./x", "relative-path"), ("/a/./b", "invalid-path"),
        ("/a/..", "invalid-path"), ("//a", "invalid-path"), ("/a//", "invalid-path"), ("${workspace", "invalid-path"),
        ("${workspace}x", "invalid-path"), ("/a/${home}", "invalid-path"), ("${HOME}/x", "unknown-variable"),
    ])
    func rejects(_ text: String, _ code: String) {
        switch PolicyPath.parse(text) {
        case .success(let p): Issue.record("accepted \(text) as \(p)")
        case .failure(let e): #expect(e.code == code, "\(text): \(e.message)")
        }
    }

    @Test func expansionAndContainment() throws {
        let p = try PolicyPath.parse("${workspace}/.git/hooks").get()
        #expect(p.expanded { $0 == .workspace ? "/work/" : "/" } == "/work/.git/hooks")
        #expect(try PolicyPath.parse("${tmp}").get().expanded { _ in "/tmp/run" } == "/tmp/run")
        #expect(p.isWithin(try PolicyPath.parse("${workspace}/.git").get()))
        #expect(!p.isWithin(try PolicyPath.parse("${workspace}/.gi").get()))
        #expect(!p.isWithin(try PolicyPath.parse("/.git").get()))
    }

    @Test func everySlashByteSeparatesComponentsAsInTheKernel() throws {
        // As characters, "/" and the combining acute accent form one grapheme.
        let p = try PolicyPath.parse("/etc/\u{301}passwd").get()
        #expect(p.components == ["etc", "\u{301}passwd"])
        #expect(p.isWithin(try PolicyPath.parse("/etc").get()))
    }

    @Test func pathsAreEqualOnlyByteForByte() throws {
        // Canonically equivalent to "K" and to "é", but other names to the kernel.
        let kelvin = try PolicyPath.parse("/data/\u{212A}").get(), k = try PolicyPath.parse("/data/K").get()
        let decomposed = try PolicyPath.parse("/data/e\u{301}").get(), composed = try PolicyPath.parse("/data/\u{E9}").get()
        #expect(kelvin != k)
        #expect(decomposed != composed)
        #expect(Set([kelvin, k, decomposed, composed]).count == 4)
        #expect(!kelvin.isWithin(k) && !k.isWithin(kelvin))
        #expect(try !PolicyPath.parse("/\u{212A}/x").get().isWithin(try PolicyPath.parse("/K").get()))
        #expect(kelvin == (try PolicyPath.parse("/data/\u{212A}/").get()))
    }
}

@Suite struct LimitValueTests {
    @Test(arguments: [
        ("512", UInt64(512), "512"), ("1B", 1, "1B"), ("4K", 4096, "4KiB"), ("4KiB", 4096, "4KiB"),
        ("2M", 2 << 20, "2MiB"), ("4G", 4 << 30, "4GiB"), ("1TiB", 1 << 40, "1TiB"),
    ])
    func sizes(_ text: String, _ bytes: UInt64, _ canonical: String) throws {
        #expect(try LimitValue.parseSize(text).get() == LimitValue(amount: bytes, canonical: canonical))
    }

    @Test(arguments: [
        ("90s", UInt64(90), "1m30s"), ("30m", 1800, "30m"), ("2h", 7200, "2h"), ("1h30m", 5400, "1h30m"),
        ("1h0m5s", 3605, "1h5s"), ("0s", 0, "0s"),
    ])
    func durations(_ text: String, _ seconds: UInt64, _ canonical: String) throws {
        #expect(try LimitValue.parseDuration(text).get() == LimitValue(amount: seconds, canonical: canonical))
    }

    @Test(arguments: ["", "h", "30", "1m1h", "1h1h", "5d", "1.5h", "99999999999999999999s", "5124095576030432h"])
    func badDurations(_ text: String) {
        #expect((try? LimitValue.parseDuration(text).get()) == nil)
    }

    @Test(arguments: ["", "GiB", "4GB", "4 GiB", "4gib", "18446744073709551615K"])
    func badSizes(_ text: String) {
        #expect((try? LimitValue.parseSize(text).get()) == nil)
    }

    @Test func gbSuggestsGiB() {
        guard case .failure(let e) = LimitValue.parseSize("4GB") else { Issue.record("accepted"); return }
        #expect(e.help?.hasPrefix("did you mean `4GiB`?") == true)
    }
}

@Suite struct IntegerAndSuggestionTests {
    @Test(arguments: [("0", UInt64(0)), ("42", 42), ("0x1F", 31), ("0o17", 15), ("017", 15), ("0b101", 5),
                      ("18446744073709551615", UInt64.max)])
    func integers(_ text: String, _ value: UInt64) throws {
        #expect(try IntegerLiteral.parse(text).get() == value)
    }

    @Test(arguments: ["08", "0x", "0xG", "18446744073709551616", "12a"])
    func badIntegers(_ text: String) {
        #expect((try? IntegerLiteral.parse(text).get()) == nil)
    }

    @Test func suggestions() {
        #expect(Suggestions.closest(to: "opne", in: ["open", "openat", "close"]) == "open")
        #expect(Suggestions.closest(to: "memmory", in: ["memory", "processes"]) == "memory")
        #expect(Suggestions.closest(to: "zzz", in: ["memory", "processes"]) == nil)
        #expect(Suggestions.closest(to: "EPERM", in: ["EPERM"]) == nil)
    }
}
