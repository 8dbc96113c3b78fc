import Testing
@testable import WardenIdentity

@Suite struct RunTokenTests {
    let now: Int64 = 1_800_000_000

    func claims(expires: Int64? = nil) -> RunTokenClaims {
        RunTokenClaims(issuer: "https://warden.invalid/host", subject: "dependency-updater", audience: "warden",
                       runID: "0123456789abcdef", policySHA256: String(repeating: "a", count: 64),
                       planSHA256: String(repeating: "b", count: 64), repository: "https://github.com/acme/app.git",
                       commit: String(repeating: "c", count: 40), issuedAt: now, expiresAt: expires ?? now + 3600)
    }

    @Test func signAndVerifyRoundTrip() throws {
        let key = IssuerSigningKey.generate()
        let token = try RunToken.sign(claims(), with: key)
        let verified = try RunToken.verify(token, keys: [key.publicKey], now: now + 10)
        #expect(verified.claims == claims().with(tokenID: verified.claims.tokenID))
        #expect(verified.keyID == key.publicKey.keyID)
        // Header exactly as the contract says, fixed claim order in the payload.
        let header = String(decoding: Base64URL.decode(token.split(separator: ".")[0])!, as: UTF8.self)
        #expect(header == "{\"alg\":\"ES256\",\"kid\":\"\(key.publicKey.keyID)\",\"typ\":\"JWT\"}")
        #expect(verified.payload.hasPrefix("{\"iss\":\"https://warden.invalid/host\",\"sub\":\"dependency-updater\",\"aud\":\"warden\",\"run\":\"0123456789abcdef\",\"policy_sha256\":"))
        #expect(Base64URL.decode(token.split(separator: ".")[2])!.count == 64)
        // A trailing newline (a token file read with `cat`) is accepted.
        _ = try RunToken.verify(token + "\n", keys: [key.publicKey], now: now)
    }

    @Test func optionalClaimsAreLeftOut() throws {
        var c = claims()
        c.repository = nil
        c.commit = nil
        #expect(!c.json.contains("repository") && !c.json.contains("commit"))
        let key = IssuerSigningKey.generate()
        let verified = try RunToken.verify(try RunToken.sign(c, with: key), keys: [key.publicKey], now: now)
        #expect(verified.claims.repository == nil && verified.claims.commit == nil)
    }

    @Test func claimTextIsEscaped() throws {
        var c = claims()
        c.subject = "a\"b\\c\u{1}d"
        #expect(c.json.contains(#""sub":"a\"b\\c\u0001d""#))
        let key = IssuerSigningKey.generate()
        #expect(try RunToken.verify(try RunToken.sign(c, with: key), keys: [key.publicKey], now: now).claims.subject == c.subject)
    }

    @Test func tamperedTokensAreRefused() throws {
        let key = IssuerSigningKey.generate()
        let token = try RunToken.sign(claims(), with: key)
        let parts = token.split(separator: ".").map(String.init)
        // Another payload under the original signature (sub changed).
        var forged = claims()
        forged.subject = "admin"
        let swapped = parts[0] + "." + Base64URL.encode(forged.json) + "." + parts[2]
        #expect(throws: IdentityError.invalidToken("bad signature")) { try RunToken.verify(swapped, keys: [key.publicKey], now: now) }
        // A flipped signature bit.
        var sig = Base64URL.decode(parts[2])!
        sig[10] ^= 1
        let flipped = parts[0] + "." + parts[1] + "." + Base64URL.encode(sig)
        #expect(throws: IdentityError.invalidToken("bad signature")) { try RunToken.verify(flipped, keys: [key.publicKey], now: now) }
        // Signed by another key that claims this key's kid.
        let other = IssuerSigningKey.generate()
        let otherToken = try RunToken.sign(claims(), with: other).split(separator: ".").map(String.init)
        let mixed = parts[0] + "." + otherToken[1] + "." + otherToken[2]
        #expect(throws: IdentityError.invalidToken("bad signature")) { try RunToken.verify(mixed, keys: [key.publicKey], now: now) }
        // An unknown key.
        #expect(throws: IdentityError.self) { try RunToken.verify(try RunToken.sign(claims(), with: other), keys: [key.publicKey], now: now) }
    }

    @Test func algorithmConfusionIsRefused() throws {
        let key = IssuerSigningKey.generate()
        let body = Base64URL.encode(claims().json)
        for header in [#"{"alg":"none","kid":"\#(key.publicKey.keyID)"}"#, #"{"alg":"HS256","kid":"\#(key.publicKey.keyID)"}"#,
                       #"{"alg":"ES256","kid":"\#(key.publicKey.keyID)","crit":["x"]}"#,
                       #"{"alg":"ES256","alg":"none","kid":"\#(key.publicKey.keyID)"}"#] {
            let token = Base64URL.encode(header) + "." + body + "."
            #expect(throws: IdentityError.self) { try RunToken.verify(token, keys: [key.publicKey], now: now) }
        }
    }

    @Test func timeClaimsAreChecked() throws {
        let key = IssuerSigningKey.generate()
        let token = try RunToken.sign(claims(expires: now + 100), with: key)
        _ = try RunToken.verify(token, keys: [key.publicKey], now: now + 100 + 59)
        #expect(throws: IdentityError.self) { try RunToken.verify(token, keys: [key.publicKey], now: now + 100 + 61) }
        #expect(throws: IdentityError.self) { try RunToken.verify(token, keys: [key.publicKey], now: now - 3600) }
        #expect(throws: IdentityError.self) { try RunToken.verify(token, keys: [key.publicKey], now: now, audience: "sts.amazonaws.com") }
        #expect(throws: IdentityError.self) { try RunToken.verify(token, keys: [key.publicKey], now: now, issuer: "https://other") }
        _ = try RunToken.verify(token, keys: [key.publicKey], now: now, issuer: "https://warden.invalid/host", audience: "warden")
    }

    @Test func malformedTokensGetErrorsNotCrashes() {
        let key = IssuerSigningKey.generate()
        let inputs = ["", ".", "..", "a.b.c", "a.b", "a.b.c.d", "eyJ.eyJ.AAAA", String(repeating: "A", count: 20000),
                      Base64URL.encode("{") + ".." , Base64URL.encode("[1]") + "." + Base64URL.encode("{}") + ".",
                      "====.====.===="]
        for input in inputs {
            #expect(throws: IdentityError.self) { try RunToken.verify(input, keys: [key.publicKey], now: now) }
        }
    }
}

extension RunTokenClaims {
    func with(tokenID: String) -> RunTokenClaims {
        var c = self
        c.tokenID = tokenID
        return c
    }
}

@Suite struct EncodingTests {
    @Test func base64URLRoundTripsAndIsStrict() {
        var rng = SystemRandomNumberGenerator()
        for n in 0..<70 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("AB==") == nil)
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("AA") == [0])
        #expect(Base64URL.decode("AB") == nil)  // non-zero unused bits
        #expect(Base64URL.decode("AC") == nil)  // non-zero unused bits
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("ab cd") == nil)
    }

    @Test func jsonParserIsStrict() throws {
        #expect(try JSONValue.parse(Array(#"{"a":[1,-2,3.5,true,null,"x\u00e9\ud83d\ude00"]}"#.utf8))["a"]
                == .array([.integer(1), .integer(-2), .number(3.5), .bool(true), .null, .string("xé😀")]))
        for bad in [#"{"a":1,"a":2}"#, "{", #"{"a":01}"#, #"{"a":"\ud800"}"#, "[1,]", "{} x", #"{"a":"\#u{1}"}"#,
                    String(repeating: "[", count: 40) + String(repeating: "]", count: 40)] {
            #expect(throws: IdentityError.self) { try JSONValue.parse(Array(bad.utf8)) }
        }
        #expect(throws: IdentityError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }
}
