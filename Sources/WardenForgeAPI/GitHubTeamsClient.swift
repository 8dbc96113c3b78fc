import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import WardenKernel
import WardenPolicy
import WardenServe

/// Why the GitHub team source cannot be set up (`--github-api-url`, `--github-token-file`).
public enum GitHubTeamsError: Error, Sendable, Equatable, CustomStringConvertible {
    case configuration(String)

    public var description: String {
        switch self {
        case .configuration(let m): return m
        }
    }
}

/// GitHub team membership from the REST API (`GET /orgs/ORG/teams/SLUG/memberships/LOGIN`):
/// 200 with `"state":"active"` is a member; 404, or 200 with `"state":"pending"` (an
/// invitation not accepted), is not. Anything else — another status (401, 403, 5xx, a
/// redirect, which is never followed), no answer within the time, a body over `maxBody`
/// bytes, an answer that is not the expected JSON — is an error, never an answer.
///
/// The token is read from its file (`OperatorFile`, owner-only) for every lookup, so a
/// rotated token is picked up; it is sent only as the `Authorization` header and never
/// appears in an error. Answers are cached (`MembershipCache`); errors are not.
public final class GitHubTeamsClient: LiteralTeamSource {
    public struct Settings: Sendable {
        public var address: GitHubAPIAddress
        public var tokenFile: String
        /// How long one lookup may take in all (the delivery's own deadline may cut it shorter).
        public var requestTimeoutMilliseconds: Int64 = 5000
        /// The largest answer body read.
        public var maxBody = 64 * 1024
        public var memberCacheSeconds: Int64 = 300
        public var nonMemberCacheSeconds: Int64 = 300
        public var cacheEntries = 10_000

        public init(address: GitHubAPIAddress = .github, tokenFile: String) {
            self.address = address
            self.tokenFile = tokenFile
        }
    }

    public let settings: Settings
    public var name: String { "github-api" }
    let cache: MembershipCache
    private let client: HTTPClient

    /// Checks the token file now (a server that cannot look teams up must not start).
    public init(settings: Settings) throws(GitHubTeamsError) {
        self.settings = settings
        cache = MembershipCache(memberSeconds: settings.memberCacheSeconds, nonMemberSeconds: settings.nonMemberCacheSeconds,
                                capacity: settings.cacheEntries)
        do { _ = try Self.token(settings.tokenFile) } catch { throw .configuration(error.description) }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .milliseconds(min(3000, settings.requestTimeoutMilliseconds)),
                                      read: .milliseconds(settings.requestTimeoutMilliseconds))
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    deinit { try? client.syncShutdown() }

    /// The bearer token: printable ASCII without blanks, from an owner-only file.
    static func token(_ path: String) throws(OperatorFileError) -> String {
        let what = "--github-token-file \(TerminalText.escape(path))"
        let bytes = try OperatorFile.read(path, what: what, limit: 64 * 1024, secret: true).bytes
        var text = Substring(String(decoding: bytes, as: UTF8.self))
        while let l = text.last, l == "\n" || l == "\r" || l == " " || l == "\t" { text = text.dropLast() }
        while let f = text.first, f == " " || f == "\t" { text = text.dropFirst() }
        guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw OperatorFileError(what, "does not hold a token (empty, or blanks or bytes outside printable ASCII)")
        }
        return String(text)
    }

    public func check(login: String, forge: TriggerSourceKind, team pattern: TriggerGlob, deadline: Int64) -> TeamAnswer {
        guard forge == .github else { return .failed("the GitHub API answers only for GitHub teams") }
        guard pattern.isLiteral else { return .failed("`\(pattern.text)` is a pattern; the GitHub API looks up named teams only") }
        let parts = pattern.text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return .failed("`\(pattern.text)` is not a GitHub team (ORG/SLUG)")
        }
        guard !login.isEmpty else { return .failed("the sender's login is empty") }
        let key = MembershipCache.Key(team: pattern.text.lowercased(), login: login.lowercased())
        let now = ServeClock.milliseconds()
        if let member = cache.answer(key, now: now) {
            return member ? .member(teams: [key.team], cached: true) : .notMember(cached: true)
        }
        let remaining = min(settings.requestTimeoutMilliseconds, deadline - now)
        guard remaining > 0 else { return .failed("no time left for the lookup") }
        // Organization names compare without regard to case and slugs are lowercase: ask in lowercase.
        let url = settings.address.membershipURL(org: parts[0].lowercased(), slug: parts[1].lowercased(), login: login)
        switch lookup(url, milliseconds: remaining) {
        case .success(let member):
            cache.store(key, member: member, now: ServeClock.milliseconds())
            return member ? .member(teams: [key.team], cached: false) : .notMember(cached: false)
        case .failure(let failure):
            return .failed(failure.description)
        }
    }

    /// Why a lookup says neither member nor not (recorded and refused with).
    struct LookupFailure: Error, Equatable, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// One request: member, not a member, or why neither can be said.
    private func lookup(_ url: String, milliseconds: Int64) -> Result<Bool, LookupFailure> {
        let token: String
        do { token = try Self.token(settings.tokenFile) } catch { return .failure(.init(error.description)) }
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/vnd.github+json")
        headers.add(name: "X-GitHub-Api-Version", value: "2022-11-28")
        headers.add(name: "User-Agent", value: "warden-serve")
        headers.add(name: "Authorization", value: "Bearer " + token)
        let request: HTTPClient.Request
        do { request = try HTTPClient.Request(url: url, method: .GET, headers: headers) } catch {
            return .failure(.init("cannot form the request: \(error)"))
        }
        let accumulator = ResponseAccumulator(request: request, maxBodySize: settings.maxBody)
        let response: HTTPClient.Response
        do {
            response = try client.execute(request: request, delegate: accumulator, deadline: .now() + .milliseconds(milliseconds)).wait()
        } catch is ResponseAccumulator.ResponseTooBigError {
            return .failure(.init("the GitHub API's answer is larger than \(settings.maxBody) bytes"))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .failure(.init("the GitHub API did not answer within \(milliseconds) ms"))
        } catch {
            return .failure(.init("the GitHub API cannot be reached: \(error)"))
        }
        var buffer = response.body ?? ByteBuffer()
        let body = buffer.readBytes(length: buffer.readableBytes) ?? []
        return Self.interpret(status: Int(response.status.code), body: body)
    }

    /// What an answer says (pure, for tests).
    static func interpret(status: Int, body: [UInt8]) -> Result<Bool, LookupFailure> {
        switch status {
        case 200:
            guard let value = WebhookJSON.value(body), case .object = value, let state = value["state"]?.stringValue else {
                return .failure(.init("the GitHub API's 200 answer is not a membership (no \"state\")"))
            }
            switch state {
            case "active": return .success(true)
            case "pending": return .success(false)
            default: return .failure(.init("the GitHub API answered membership state \"\(TerminalText.escape(String(state.prefix(40))))\", neither active nor pending"))
            }
        case 404:
            return .success(false)
        case 401:
            return .failure(.init("the GitHub API answered 401: the token is not accepted (expired or revoked?)"))
        case 403, 429:
            return .failure(.init("the GitHub API answered \(status): the token may not read the organization's teams (it needs read:org, or Members: read), or a rate limit was hit"))
        case 300...399:
            return .failure(.init("the GitHub API answered \(status), a redirect (not followed; check --github-api-url)"))
        default:
            return .failure(.init("the GitHub API answered \(status)"))
        }
    }
}
