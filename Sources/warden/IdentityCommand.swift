import ArgumentParser
import WardenIdentity
import WardenKernel
#if canImport(Glibc)
import Glibc
#endif

/// `warden identity …`: the run identity tokens' issuer (keys, JWKS, discovery, verify).
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Manage the issuer of run identity tokens (ES256 JWTs): keys, JWKS, discovery, verify.",
        discussion: """
            Every run gets a signed token naming its identity, run id, policy and plan hashes, \
            repository and commit (see docs/identity.md). Keys live in $WARDEN_IDENTITY_KEYS, else \
            /var/lib/warden/identity for root, else $XDG_STATE_HOME/warden/identity (default \
            ~/.local/state/warden/identity). The first run creates the first key.
            Exit codes: 0 ok; 1 token invalid (verify); 2 usage or I/O error (no key, unsafe key files).
            """,
        subcommands: [IdentityJWKSCommand.self, IdentityDiscoveryCommand.self, IdentityRotateCommand.self,
                      IdentityVerifyCommand.self]
    )
}

/// Options every identity subcommand shares.
struct IdentityKeyOptions: ParsableArguments {
    @Option(name: .customLong("key-dir"), help: "The issuer key directory (default: see `warden identity --help`).")
    var keyDirectory: String?

    var keys: IssuerKeys {
        IssuerKeys(directory: keyDirectory ?? IssuerKeys.defaultDirectory(environment: processEnvironment()))
    }

    func validate() throws {
        if keyDirectory == "" { throw ValidationError("--key-dir: the path is empty") }
    }
}

/// Prints an error (escaped) on stderr and returns exit code 2 to throw.
func identityFail(_ message: String) -> ExitCode {
    printError("identity: " + message)
    return ExitCode(2)
}

/// Warden's own environment as a dictionary.
func processEnvironment() -> [String: String] {
    var out: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let text = String(cString: entry)
        if let eq = text.firstIndex(of: "=") { out[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
        p += 1
    }
    return out
}

struct IdentityJWKSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwks",
        abstract: "Print the JSON Web Key Set that verifies run tokens: {\"keys\":[...]}, current key first.",
        discussion: "Publish it at the discovery document's jwks_uri (ISSUER/.well-known/jwks.json by default)."
    )

    @OptionGroup var options: IdentityKeyOptions

    func run() throws {
        do { print(IssuerDocuments.jwks(try options.keys.publicKeys())) } catch { throw identityFail("\(error)") }
    }
}

struct IdentityDiscoveryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discovery",
        abstract: "Print the OpenID Provider configuration for the issuer (ISSUER/.well-known/openid-configuration).",
        discussion: "The issuer is --issuer, else $WARDEN_ISSUER, else https://warden.invalid/<host name>; it must match the iss claim runs use."
    )

    @Option(help: "The issuer URL (the tokens' iss claim).")
    var issuer: String?

    @Option(name: .customLong("jwks-uri"), help: "Where the JWKS is published (default ISSUER/.well-known/jwks.json).")
    var jwksURI: String?

    func validate() throws {
        if let issuer, !issuer.hasPrefix("https://") && !issuer.hasPrefix("http://") {
            throw ValidationError("--issuer must be an http(s) URL")
        }
    }

    func run() throws {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let iss = issuer ?? IssuerKeys.defaultIssuer(environment: processEnvironment(), hostName: host)
        print(IssuerDocuments.discovery(issuer: iss, jwksURI: jwksURI))
    }
}

struct IdentityRotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Make a new current signing key; previous public keys stay in the JWKS.",
        discussion: """
            The previous private key is deleted; its public key (KID.pub in the key directory) stays in \
            the JWKS so tokens it signed verify until they expire. Delete KID.pub to stop trusting them. \
            Creates the key directory (mode 0700) and the first key when there is none.
            """
    )

    @OptionGroup var options: IdentityKeyOptions

    func run() throws {
        let keys = options.keys
        do {
            let (key, previous) = try keys.rotate()
            print("new current key \(key.keyID) in \(TerminalText.escape(keys.directory))"
                  + (previous.map { "; previous key \($0) kept in the JWKS (delete \($0).pub to remove it)" } ?? ""))
        } catch { throw identityFail("\(error)") }
    }
}

struct IdentityVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a run token against the issuer's JWKS and print its claims.",
        discussion: "Exit codes: 0 valid (claims printed as JSON); 1 invalid (the reason on stderr); 2 usage or I/O error."
    )

    @Argument(help: "The token, or - to read it from stdin.")
    var token: String

    @Option(help: "A JWKS file to verify against instead of the key directory.")
    var jwks: String?

    @Option(help: "Require this audience (aud).")
    var audience: String?

    @Option(help: "Require this issuer (iss).")
    var issuer: String?

    @OptionGroup var options: IdentityKeyOptions

    func run() throws {
        var text = token
        if token == "-" {
            guard let bytes = readAll(fd: 0, limit: RunToken.maxLength + 2) else { throw identityFail("cannot read the token from stdin") }
            text = String(decoding: bytes, as: UTF8.self)
        }
        let keys: [IssuerPublicKey]
        do {
            if let jwks {
                let fd = open(jwks, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
                guard fd >= 0 else { throw identityFail("\(jwks): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                guard let bytes = readAll(fd: fd, limit: 1 << 20) else { throw identityFail("\(jwks): cannot read it") }
                keys = try IssuerDocuments.keys(fromJWKS: bytes)
            } else {
                keys = try options.keys.publicKeys()
            }
        } catch let error as IdentityError { throw identityFail("\(error)") }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        do {
            let verified = try RunToken.verify(text, keys: keys, now: Int64(now.tv_sec), issuer: issuer, audience: audience)
            print(TerminalText.escape(verified.payload))
        } catch {
            printError("identity: \(error)")
            throw ExitCode(1)
        }
    }

    /// Everything from `fd`, or nil past `limit` bytes or on a read error.
    private func readAll(fd: Int32, limit: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return out }
            out += buffer.prefix(n)
            if out.count > limit { return nil }
        }
    }
}
