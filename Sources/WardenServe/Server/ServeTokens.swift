import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The API tokens of `warden serve` (`--api-tokens FILE`) and what each may do.
///
/// The file has one token per line, `NAME SCOPES TOKEN` (blank lines and `#` comments
/// ignored): NAME is 1-64 of `A-Z a-z 0-9 . _ -`, SCOPES a comma-separated list of `read`
/// (the page, `/api/*` reads, `/metrics`), `control` (the kill switch through the API) and
/// `launch:TRIGGER` or `launch:*` (start a manual trigger), TOKEN at least 16 printable bytes.
/// A launch is decided by the policy as well: the trigger must be `on manual` and its `by`
/// must name `token:NAME` (a name no local user can have), so the policy stays the one
/// place that says who may start which identity. The file must be a regular file of the
/// server's user that no one else can read or write.
public struct ServeTokens: Sendable {
    public enum Scope: Sendable, Hashable {
        case read, control
        /// A manual trigger, or `nil`: any.
        case launch(String?)
    }

    public struct Token: Sendable {
        public var name: String
        public var scopes: Set<Scope>
        let secret: [UInt8]

        /// Whether the token may start manual trigger `trigger`.
        public func mayLaunch(_ trigger: String) -> Bool {
            scopes.contains(.launch(nil)) || scopes.contains(.launch(trigger))
        }

        /// The user a launch by this token is decided as (the trigger's `by` must name it).
        public var user: String { "token:" + name }
    }

    public private(set) var tokens: [Token]

    public init(_ tokens: [Token] = []) { self.tokens = tokens }

    public var isEmpty: Bool { tokens.isEmpty }

    /// Adds the single token of `--api-token-file` (scope `read`, named `api`).
    public mutating func addReadToken(_ secret: [UInt8]) {
        tokens.append(Token(name: "api", scopes: [.read], secret: secret))
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses a tokens file's text.
    public static func parse(_ text: String) throws(ParseError) -> ServeTokens {
        var tokens: [Token] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: " \t\r")
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let at = "line \(index + 1)"
            guard fields.count == 3 else { throw ParseError(description: "\(at): expected NAME SCOPES TOKEN") }
            let name = String(fields[0])
            guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(Self.isNameByte) else {
                throw ParseError(description: "\(at): the name must be 1-64 of A-Z a-z 0-9 . _ -")
            }
            guard !tokens.contains(where: { $0.name == name }) else { throw ParseError(description: "\(at): token \(name) is named twice") }
            var scopes: Set<Scope> = []
            for word in fields[1].split(separator: ",", omittingEmptySubsequences: false) {
                switch word {
                case "read": scopes.insert(.read)
                case "control": scopes.insert(.control)
                case "launch:*": scopes.insert(.launch(nil))
                default:
                    guard word.hasPrefix("launch:"), word.count > 7,
                          word.dropFirst(7).utf8.allSatisfy(Self.isNameByte) else {
                        throw ParseError(description: "\(at): unknown scope \"\(word.prefix(80))\" (read, control, launch:TRIGGER, launch:*)")
                    }
                    scopes.insert(.launch(String(word.dropFirst(7))))
                }
            }
            let secret = Array(fields[2].utf8)
            guard secret.count >= 16 else { throw ParseError(description: "\(at): token \(name) is shorter than 16 bytes") }
            guard !tokens.contains(where: { WebhookSignature.tokenEqual($0.secret, secret) }) else {
                throw ParseError(description: "\(at): token \(name) has the same value as another")
            }
            tokens.append(Token(name: name, scopes: scopes, secret: secret))
        }
        return ServeTokens(tokens)
    }

    /// `A-Z a-z 0-9 . _ -`: the bytes of a token, trigger or identity name the API takes.
    static func isNameByte(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2E || b == 0x5F || b == 0x2D
    }

    /// The token an `Authorization: Bearer …` header carries, compared in constant time with
    /// every token (nil: none, or no such header).
    public func authenticate(_ authorization: String?) -> Token? {
        guard let value = authorization, value.hasPrefix("Bearer ") else { return nil }
        let offered = Array(value.utf8.dropFirst(7))
        var found: Token?
        for token in tokens where WebhookSignature.tokenEqual(offered, token.secret) && found == nil { found = token }
        return found
    }
}
