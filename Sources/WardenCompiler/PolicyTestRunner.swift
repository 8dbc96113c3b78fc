import WardenPolicy

/// The outcome of one `expect` line.
public struct ExpectationResult: Sendable {
    public var test: String
    /// The identity the test is about.
    public var identity: String
    public var expectation: CheckedExpectation
    public var decision: Decision
    public var passed: Bool { decision.effect == expectation.effect }
}

/// Runs a policy's `test` blocks against the effective policies of their identities.
public struct PolicyTestRunner: Sendable {
    public var policy: CheckedPolicy

    public init(policy: CheckedPolicy) {
        self.policy = policy
    }

    /// Every expectation of every test, in source order.
    public func run() throws(EffectivePolicyError) -> [ExpectationResult] {
        var cache: [String: EffectivePolicy] = [:]
        var results: [ExpectationResult] = []
        let authorizer = TriggerAuthorizer(policy: policy)
        for test in policy.tests {
            for expectation in test.expectations {
                if case .trigger(let event) = expectation.action {
                    results.append(ExpectationResult(test: test.name, identity: test.identity ?? "", expectation: expectation,
                                                     decision: authorizer.decision(event, identity: test.identity)))
                    continue
                }
                guard let identity = test.identity else { continue }
                let effective: EffectivePolicy
                if let cached = cache[identity] {
                    effective = cached
                } else {
                    effective = try EffectivePolicy(policy: policy, identity: identity)
                    cache[identity] = effective
                }
                results.append(ExpectationResult(test: test.name, identity: identity, expectation: expectation,
                                                 decision: effective.decide(expectation.action)))
            }
        }
        return results
    }
}

extension EffectivePolicy {
    /// The decision for one concrete test action.
    public func decide(_ action: TestAction) -> Decision {
        switch action {
        case .fs(let access, let path): return decideFs(access, path)
        case .net(let direction, let proto, let endpoint): return decideNetMediated(direction, proto, endpoint)
        case .syscall(let name, let arguments): return decideSyscall(name, arguments: arguments ?? [])
        case .capability(let name): return decideCapability(name)
        case .http(let method, let url): return decideHTTP(HTTPTarget(method: method, url: url)).decision
        case .gitPush(let host, let port, let repoPath, let ref):
            return decideGitPush(host: host, port: port, repoPath: repoPath, ref: ref)
        case .trigger:
            return Decision(effect: .deny, rules: [], mechanism: "launch authorization",
                            note: "an identity's rules do not decide triggers; ask TriggerAuthorizer")
        }
    }
}
