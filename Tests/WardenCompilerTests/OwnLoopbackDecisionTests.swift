import Testing
import WardenCompiler
import WardenPolicy

/// `decideNetMediated`: the rules first, then the agent's own loopback, then default deny.
/// The runtime and `warden explain` both ask it, so these answers are the run's.
@Suite struct OwnLoopbackDecisionTests {
    static let policy = """
    warden 1
    identity agent {
      allow net connect tcp "registry.example.org:443", "127.0.0.1:6000"
      allow net bind tcp "0.0.0.0:8080"
      allow net bind tcp "127.0.0.1:80"
      deny net bind tcp "127.0.0.1:9999" because "reserved for the host's debugger"
    }
    identity offline {
      allow fs read "/usr"
    }
    """

    func ep(_ s: String) throws -> Endpoint {
        guard case .success(let e) = Endpoint.parse(s) else { throw EndpointError() }
        return e
    }
    struct EndpointError: Error {}

    @Test func loopbackBindsAndListensNeedNoRule() throws {
        let p = try effective(Self.policy)
        for text in ["127.0.0.1:0", "127.0.0.1:5000", "127.0.0.2:0", "[::1]:0", "[::1]:65535", "[::ffff:127.0.0.1]:0"] {
            let d = p.decideNetMediated(.bind, .tcp, try ep(text))
            #expect(d.effect == .allow, "\(text)")
            #expect(d.rules == [OwnLoopback.bindRule], "\(text)")
            #expect(d.mechanism == OwnLoopback.mechanism)
        }
        #expect(p.decideNetMediated(.bind, .udp, try ep("127.0.0.1:0")).effect == .allow)
    }

    @Test func nonLoopbackBindsStillNeedARule() throws {
        let p = try effective(Self.policy)
        for text in ["0.0.0.0:3000", "[::]:3000", "10.1.2.3:3000", "[fe80::1]:3000", "128.0.0.1:3000", "126.255.255.255:3000"] {
            let d = p.decideNetMediated(.bind, .tcp, try ep(text))
            #expect(d.effect == .deny, "\(text)")
            #expect(d.rules.isEmpty, "\(text)")
            #expect(d.note?.contains("expose") == true, "\(text)")
        }
        #expect(p.decideNetMediated(.bind, .tcp, try ep("0.0.0.0:8080")).effect == .allow, "the bind rule")
        // Port 0 off loopback: an ephemeral client port, as before (listen decides later).
        #expect(p.decideNetMediated(.bind, .udp, try ep("0.0.0.0:0")).effect == .allow)
    }

    @Test func rulesWinOverTheOwnLoopback() throws {
        let p = try effective(Self.policy)
        let denied = p.decideNetMediated(.bind, .tcp, try ep("127.0.0.1:9999"))
        #expect(denied.effect == .deny)
        #expect(denied.rules.first?.because == "reserved for the host's debugger")
        // A rule-allowed low port still needs CAP_NET_BIND_SERVICE, as at run time.
        let low = p.decideNetMediated(.bind, .tcp, try ep("127.0.0.1:80"))
        #expect(low.effect == .deny)
        #expect(low.rules.first?.rule.contains("CAP_NET_BIND_SERVICE") == true)
        #expect(p.decideNetMediated(.bind, .tcp, try ep("127.0.0.1:443")).effect == .deny, "own loopback: low ports too")
        // A connect rule naming a host loopback service allows it outright.
        let named = p.decideNetMediated(.connect, .tcp, try ep("127.0.0.1:6000"))
        #expect(named.effect == .allow && named.condition == nil)
    }

    @Test func loopbackConnectsAreTheAgentsOwnListenersOnly() throws {
        let p = try effective(Self.policy)
        for text in ["127.0.0.1:5432", "127.0.0.2:80", "[::1]:8080", "[::ffff:127.0.0.1]:5432"] {
            for proto in [NetProtocol.tcp, .udp] {
                let d = p.decideNetMediated(.connect, proto, try ep(text))
                #expect(d.effect == .deny, "\(text)")
                #expect(d.condition == OwnLoopback.connectCondition, "\(text)")
                #expect(d.rules == [OwnLoopback.connectRule])
                #expect(d.note?.contains("allow net connect \(proto.rawValue)") == true)
            }
        }
        // Not loopback: plain default deny, no condition.
        let other = p.decideNetMediated(.connect, .tcp, try ep("10.0.0.1:5432"))
        #expect(other.effect == .deny && other.condition == nil && other.rules.isEmpty)
    }

    @Test func withoutNetRulesLoopbackIsThePrivateNamespaces() throws {
        let p = try effective(Self.policy, identity: "offline")
        let d = p.decideNetMediated(.bind, .tcp, try ep("127.0.0.1:0"))
        #expect(d.effect == .allow)
        #expect(d.mechanism.contains("namespace"))
        #expect(p.decideNetMediated(.connect, .tcp, try ep("127.0.0.1:8080")).effect == .allow)
        #expect(p.decideNetMediated(.connect, .tcp, try ep("10.0.0.1:80")).effect == .deny)
    }

    @Test func isLoopback() throws {
        #expect(OwnLoopback.isLoopback(try ep("127.255.0.9:1").host))
        #expect(OwnLoopback.isLoopback(try ep("[::1]:1").host))
        #expect(!OwnLoopback.isLoopback(try ep("[::2]:1").host))
        #expect(!OwnLoopback.isLoopback(try ep("[::]:1").host))
        #expect(!OwnLoopback.isLoopback(try ep("0.0.0.0:1").host))
        #expect(!OwnLoopback.isLoopback(try ep("localhost:1").host), "names are decided by address at run time")
        #expect(OwnLoopback.isLoopbackName(try ep("localhost:1").host))
        #expect(OwnLoopback.isLoopbackName(try ep("db.localhost:1").host))
        #expect(!OwnLoopback.isLoopbackName(try ep("localhost.example.com:1").host))
    }

    @Test func localhostIsAnsweredAsItsLoopbackAddress() throws {
        let p = try effective(Self.policy)
        #expect(p.decideNetMediated(.bind, .tcp, try ep("localhost:0")).effect == .allow)
        let connect = p.decideNetMediated(.connect, .tcp, try ep("localhost:8080"))
        #expect(connect.effect == .deny && connect.condition == OwnLoopback.connectCondition)
        let named = try effective("""
        warden 1
        identity agent {
          allow net connect tcp "localhost:5432"
        }
        """)
        #expect(named.decideNetMediated(.connect, .tcp, try ep("localhost:5432")).effect == .allow, "a rule naming it wins")
    }
}
