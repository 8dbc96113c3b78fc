import Testing
import WardenAudit
@testable import WardenServe
import WardenTestSupport

/// Deterministic mutation fuzzing: whatever a signed sender puts in headers and body, the
/// layer answers with a delivery or a rejection whose status is one of the documented ones
/// and whose reason is short printable ASCII; accepted values keep their invariants.
@Suite struct WebhookFuzzTests {
    typealias F = WebhookFixtures

    static let statuses: Set<Int> = [400, 401, 403, 413, 415, 422]
    static let interesting: [UInt8] = Array("\"\\{}[],:.-/0123456789eE \u{7f}".utf8) + [0x00, 0x0A, 0x1B, 0x80, 0xC3, 0xE2, 0xFF]

    static func mutate(_ body: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var b = body
        for _ in 0..<(1 + rng.below(4)) {
            guard !b.isEmpty else { break }
            let i = rng.below(b.count)
            switch rng.below(4) {
            case 0: b[i] = interesting[rng.below(interesting.count)]
            case 1: b.remove(at: i)
            case 2: b.insert(interesting[rng.below(interesting.count)], at: i)
            default: b[i] = UInt8(truncatingIfNeeded: rng.next())
            }
        }
        return b
    }

    /// Re-signs `request` after its body changed, so the parser (not the signature) meets it.
    static func resign(_ request: WebhookRequest, _ endpoint: WebhookEndpoint) -> WebhookRequest {
        var r = request
        switch endpoint {
        case .github:
            let mac = WebhookSignature.hmacSHA256(key: Array(F.ghKey.utf8), message: r.body)
            r.headers = r.headers.map { $0.name == "X-Hub-Signature-256" ? (name: $0.name, value: WebhookSignature.header(mac)) : $0 }
        case .hook:
            let mac = WebhookSignature.hmacSHA256(key: Array(F.hookKey.utf8), message: Array("\(F.now).".utf8) + r.body)
            r.headers = r.headers.map { $0.name == "X-Warden-Signature" ? (name: $0.name, value: WebhookSignature.header(mac)) : $0 }
        case .gitlab:
            break
        }
        return r
    }

    static func checkOutcome(_ r: WebhookRequest, _ endpoint: WebhookEndpoint) {
        do throws(WebhookRejection) {
            let d = try F.deliver(r, endpoint)
            if let repo = d.event.repository {
                #expect(endpoint == .github ? WebhookValues.isGitHubRepository(repo) : WebhookValues.isGitLabRepository(repo))
            }
            if let b = d.event.branch { #expect(WebhookValues.isBranch(b)) }
            if let c = d.commit { #expect(WebhookValues.isCommit(c)) }
            if let s = d.event.sender { #expect(WebhookValues.isLogin(s)) }
            #expect(WebhookValues.isDeliveryID(d.deliveryID))
            if let u = d.cloneURL, let repo = d.event.repository {
                #expect(u.hasPrefix("https://") && !u.contains("@") && !u.contains("?") && !u.contains("%"))
                #expect(u.lowercased().hasSuffix("/" + repo.lowercased()) || u.lowercased().hasSuffix("/" + repo.lowercased() + ".git"))
            }
            _ = EventDocument.bytes(EventDocument.make(d, trigger: F.triggers[0]))
        } catch {
            #expect(statuses.contains(error.status), "\(error)")
            #expect(error.reason.utf8.count <= WebhookRejection.maxReasonBytes)
            #expect(error.reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "\(error.reason)")
        }
    }

    @Test(arguments: [WebhookEndpoint.github, .gitlab, .hook("deploy")])
    func mutatedBodies(_ endpoint: WebhookEndpoint) {
        var rng = SeededRandom(seed: 0x5EED)
        let seed: WebhookRequest
        switch endpoint {
        case .github: seed = F.github(F.pullRequest())
        case .gitlab: seed = F.gitlab(WebhookGitLabTests.mergeRequest())
        case .hook: seed = F.hook(#"{"version":"1.2.3","n":[1,2.5,{"a":null}]}"#)
        }
        for _ in 0..<1500 {
            var r = seed
            r.body = Self.mutate(seed.body, &rng)
            Self.checkOutcome(Self.resign(r, endpoint), endpoint)
        }
    }

    @Test func mutatedHeaders() {
        var rng = SeededRandom(seed: 42)
        let seeds: [(WebhookRequest, WebhookEndpoint)] = [(F.github(F.pullRequest()), .github), (F.gitlab(WebhookGitLabTests.mergeRequest()), .gitlab),
                                                          (F.hook("{}"), .hook("deploy"))]
        for _ in 0..<1500 {
            let (seed, endpoint) = seeds[rng.below(seeds.count)]
            var r = seed
            let i = rng.below(r.headers.count)
            switch rng.below(3) {
            case 0: r.headers[i].value = String(decoding: Self.mutate(Array(r.headers[i].value.utf8), &rng), as: UTF8.self)
            case 1: r.headers.append(r.headers[i])
            default: r.headers.remove(at: i)
            }
            Self.checkOutcome(r, endpoint)
        }
    }

    @Test func randomPathsAndURLs() {
        var rng = SeededRandom(seed: 7)
        let paths = ["/hooks/webhook/deploy", "/hooks/github", "/hooks/gitlab"]
        for _ in 0..<3000 {
            let p = String(decoding: Self.mutate(Array(paths[rng.below(3)].utf8), &rng), as: UTF8.self)
            if case .hook(let name)? = WebhookEndpoint.parse(path: p) {
                #expect(WebhookEndpoint.isHookName(name))
                #expect(p == "/hooks/webhook/" + name)
            }
            let u = String(decoding: Self.mutate(Array("https://gitlab.example.com/grp/app.git".utf8), &rng), as: UTF8.self)
            if case .success(let ok) = WebhookCloneURL.check(u, repository: "grp/app", allowPrefix: true) {
                #expect(ok.hasPrefix("https://"))
                #expect(!ok.contains("@") && !ok.contains("..") && !ok.contains(" ") && !ok.contains("%"))
                #expect(ok.lowercased().hasSuffix("/grp/app.git") || ok.lowercased().hasSuffix("/grp/app"))
            }
        }
    }
}
