import WardenAudit
import WardenBroker
import WardenBrokerProtocol
import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// The credential broker of one run, for an identity with `http`/`https` rules: started
/// before the agent, fed the policy's decisions, the run's secrets and placeholders, and
/// stopped after it. Its events become audit records; its CA becomes trusted in the
/// agent's world; the mediator sends it the connects those rules govern.
///
/// Nothing here runs for an identity without HTTP rules: no broker, no event loop, no CA.
final class RunBroker {
    let broker: Broker
    let trust: AgentTrustStore
    /// `NAME=VALUE` entries for the agent: the CA variables and the placeholders.
    let environment: [String]
    let redirect: BrokerRedirect

    /// Where the broker trusts upstream servers from, instead of the host's store (tests).
    static let upstreamTrustVariable = "WARDEN_BROKER_UPSTREAM_CA"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The values of the secrets `effective` uses, read now from their sources (Warden's
    /// environment, an operator-only file, a command). Throws naming the secret and its
    /// source, never a value.
    static func resolveSecrets(_ effective: EffectivePolicy, environment: [String: String]) throws(SecretError) -> [String: [UInt8]] {
        var values: [String: [UInt8]] = [:]
        for secret in effective.secrets {
            values[secret.name] = try SecretSource.resolve(spec(secret.source), secret: secret.name, environment: environment)
        }
        return values
    }

    static func spec(_ source: WardenPolicy.SecretSource) -> SecretSourceSpec { SecretSourceSpec(source) }

    /// The absolute paths a secret command names: each argument that is one, every
    /// absolute path inside an argument (`sh -c "cd /srv/tools && ./mint"` names
    /// `/srv/tools`), and relative ones resolved against `/`, where the command runs.
    static func commandPaths(_ argv: [String]) -> [String] {
        var paths: [String] = []
        let separators = Set(" \t\n;&|()<>'\"`=:,".unicodeScalars)
        for argument in argv {
            for word in argument.unicodeScalars.split(whereSeparator: { separators.contains($0) }).map({ String(String.UnicodeScalarView($0)) })
            where word.contains("/") {
                let absolute = word.hasPrefix("/") ? word : "/" + word
                paths.append(String(absolute.prefix { $0 != "*" && $0 != "?" && $0 != "$" }))
            }
        }
        return paths
    }

    /// Why a secret's source would put its value within the agent's reach, or nil: an
    /// `env pass` of the variable it is read from, a file the agent can read (it runs as
    /// the operator, so the file's mode does not protect it), or a command (or any file
    /// its arguments name) the agent can write or replace, which would then run outside
    /// the sandbox, as the operator, on the next launch.
    static func exposure(of secret: SecretDeclaration, effective: EffectivePolicy, plan: AgentLaunchPlan) -> String? {
        switch secret.source {
        case .env(let name):
            guard effective.envPass.contains(name) else { return nil }
            return "`env pass \(name)` gives the agent the variable this secret is read from; remove it from `env pass`"
        case .file(let path):
            guard plan.agentCanRead(path) else { return nil }
            return "the agent can read \(path) (a grant covers it); keep secret files outside every path the policy lets the agent read, or deny it (`deny fs read \"\(path)\"`)"
        case .command(let argv):
            for path in commandPaths(argv) {
                let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
                if plan.agentCanWrite(path) || plan.agentCanWrite(parent.isEmpty ? "/" : parent) {
                    return "the agent can modify or replace \(path), which Warden runs outside the sandbox to read the secret; keep the command and the files it names outside every path the policy lets the agent write"
                }
            }
            return nil
        }
    }

    /// Starts the broker and writes what the agent's world needs. Throws when it cannot
    /// start (the run then fails before the agent does).
    init(effective: EffectivePolicy, plan: AgentLaunchPlan, audit: AuditRun, secrets: [String: [UInt8]],
         upstreamTrustFile: String?) throws(Failure) {
        var placeholders: [BrokerPlaceholder] = []
        var agentEnvironment: [String] = []
        for (variable, secret) in effective.placeholders {
            guard let value = secrets[secret] else { continue }
            let token = Placeholder.generate()
            agentEnvironment.append("\(variable)=\(token)")
            placeholders.append(BrokerPlaceholder(token: token, secretName: secret, value: value) { host, port in
                effective.secretIsBound(secret, host: host, port: port)
            })
        }
        let configuration = BrokerConfiguration(
            decide: { facts in Self.decide(facts, effective: effective, secrets: secrets) },
            decidePush: { push in Self.decidePush(push, effective: effective) },
            placeholders: placeholders,
            upstreamTrustFile: upstreamTrustFile,
            events: { event in try? audit.record(BrokerAuditEvents.event(event)) },
            scannedSecrets: secrets.map { BrokerScannedSecret(name: $0.key, value: $0.value) })
        let broker: Broker
        do {
            broker = try Broker(configuration: configuration)
            try broker.start()
        } catch {
            throw Failure(description: "warden: credential broker: cannot start: \(error)")
        }
        let trust: AgentTrustStore
        do {
            trust = try AgentTrustStore.install(certificateAuthorityPEM: broker.certificateAuthorityPEM, plan: plan)
        } catch {
            broker.shutdown()
            throw Failure(description: "warden: credential broker: \(error)")
        }
        guard let ipv4 = Self.address(broker.listenAddresses.ipv4) else {
            broker.shutdown()
            trust.remove()
            throw Failure(description: "warden: credential broker: its listening address \(broker.listenAddresses.ipv4.0) is not IPv4")
        }
        let ipv6 = broker.listenAddresses.ipv6.flatMap(Self.address)
        self.broker = broker
        self.trust = trust
        self.environment = trust.environment + agentEnvironment
        redirect = BrokerRedirect(ipv4: ipv4, ipv6: ipv6, scheme: { host, port in
            effective.brokeredScheme(host: host, port: port)?.rawValue
        }, register: { [broker] agentSide, destination, scheme, names in
            broker.expect(agentSide: (ip: agentSide.hostText, port: agentSide.port),
                          destination: BrokeredDestination(ip: destination.hostText, port: destination.port,
                                                           scheme: scheme == "http" ? .http : .https, names: names))
        })
    }

    /// Stops the broker (open connections are closed) and removes the CA bundle.
    func shutdown() {
        broker.shutdown()
        trust.remove()
    }

    static func address(_ a: (String, UInt16)) -> SocketAddress? {
        guard let host = ResolvedNames.parseHost(a.0) else { return nil }
        return SocketAddress(host: host, port: a.1)
    }

    /// The policy's answer for one request, with the header values its injections carry.
    static func decide(_ facts: BrokerRequestFacts, effective: EffectivePolicy, secrets: [String: [UInt8]]) -> BrokerVerdict {
        let target = HTTPTarget(scheme: facts.scheme == .http ? .http : .https, method: facts.method, host: facts.host,
                                port: facts.port, path: facts.path)
        let answer = effective.decideHTTP(target)
        let rules = answer.decision.rules.map { "\($0.location): \($0.rule)" }.joined(separator: "; ")
        guard answer.decision.effect == .allow else {
            return .refuse(rule: rules.isEmpty ? nil : rules, reason: answer.decision.note ?? "no rule allows it")
        }
        var injections: [BrokerInjection] = []
        for i in answer.injections {
            guard let value = secrets[i.secret] else {
                return .refuse(rule: rules, reason: "secret \(i.secret) has no value in this run")
            }
            let header: [UInt8]
            switch i.form {
            case .bearer: header = Array("Bearer ".utf8) + value
            case .basic(let user): header = Array("Basic ".utf8) + Array(WardenBrokerProtocol.Base64.encode(Array(user.utf8) + [UInt8(ascii: ":")] + value).utf8)
            case .header: header = value
            }
            injections.append(BrokerInjection(headerName: i.headerName, value: header, secretName: i.secret))
        }
        return .allow(rule: rules, injections: injections)
    }

    /// A push is allowed when every ref update is (deletions never are).
    static func decidePush(_ push: PushFacts, effective: EffectivePolicy) -> BrokerVerdict {
        var rules: [String] = []
        for update in push.updates {
            if update.isDeletion {
                return .refuse(rule: nil, reason: "deleting \(update.ref) is refused (Warden never lets an agent delete a remote ref)")
            }
            let d = effective.decideGitPush(host: push.host, port: push.port, repoPath: push.repoPath, ref: update.ref)
            let named = d.rules.map { "\($0.location): \($0.rule)" }
            guard d.effect == .allow else {
                return .refuse(rule: named.isEmpty ? nil : named.joined(separator: "; "),
                               reason: "push of \(update.ref): " + (d.note ?? "refused"))
            }
            rules += named
        }
        return .allow(rule: Array(Set(rules)).sorted().joined(separator: "; "), injections: [])
    }
}
