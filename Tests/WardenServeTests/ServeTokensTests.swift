import Testing
@testable import WardenServe

/// The tokens file: scopes, names and values checked; the header finds exactly the token.
@Suite struct ServeTokensTests {
    @Test func aWellFormedFileGivesEachTokenItsScopes() throws {
        let tokens = try ServeTokens.parse("""
            # name  scopes                 token
            ci-bot  launch:nightly,read    0123456789abcdef-ci

            ops     control,launch:*       0123456789abcdef-ops
            """)
        #expect(tokens.tokens.map(\.name) == ["ci-bot", "ops"])
        let ci = try #require(tokens.authenticate("Bearer 0123456789abcdef-ci"))
        #expect(ci.name == "ci-bot" && ci.mayLaunch("nightly") && !ci.mayLaunch("deploy") && ci.scopes.contains(.read))
        #expect(!ci.scopes.contains(.control) && ci.user == "token:ci-bot")
        let ops = try #require(tokens.authenticate("Bearer 0123456789abcdef-ops"))
        #expect(ops.mayLaunch("anything") && ops.scopes.contains(.control) && !ops.scopes.contains(.read))
        #expect(tokens.authenticate("Bearer 0123456789abcdef-c") == nil)
        #expect(tokens.authenticate("Bearer 0123456789abcdef-ci ") == nil)
        #expect(tokens.authenticate("0123456789abcdef-ci") == nil)
        #expect(tokens.authenticate(nil) == nil)
    }

    @Test(arguments: [
        ("a read", "expected NAME SCOPES TOKEN"),
        ("a read short", "shorter than 16"),
        ("a write 0123456789abcdef", "unknown scope"),
        ("a launch: 0123456789abcdef", "unknown scope"),
        ("a launch:x/y 0123456789abcdef", "unknown scope"),
        ("a read, 0123456789abcdef", "unknown scope"),
        ("b:c read 0123456789abcdef", "the name must be"),
        ("a read 0123456789abcdef\na read 0123456789abcdeg", "named twice"),
        ("a read 0123456789abcdef\nb read 0123456789abcdef", "same value"),
    ])
    func aBadLineIsRefusedWithItsNumber(text: String, message: String) {
        #expect {
            try ServeTokens.parse(text)
        } throws: { error in
            let description = (error as? ServeTokens.ParseError)?.description ?? ""
            return description.contains(message) && description.hasPrefix("line ")
        }
    }
}
