import Testing
@testable import WardenCompiler
import WardenPolicy

/// The short-cut in `PolicyDiffer.compare`: equal decision inputs mean equivalent, and
/// provenance alone never makes inputs differ; every kind of rule change does.
@Suite struct DecisionInputsTests {
    static let base = """
    warden 1
    permissions tools {
      allow fs read, exec "/usr"
    }
    identity a {
      use tools
      allow fs read, write "${workspace}"
      allow net connect tcp "10.0.0.0/8:443"
      allow syscall socket(domain in [AF_UNIX, AF_INET])
      allow capability NET_BIND_SERVICE because "serves a test app"
      limit processes 64
      env pass PATH
      env set CI = "true"
    }

    """

    func inputs(_ text: String) throws -> DecisionInputs {
        DecisionInputs(try EffectivePolicy(policy: checked(text), identity: "a"))
    }

    @Test func provenanceAloneDoesNotMatter() throws {
        // Lines moved (a comment, a blank line), a different `because`, the set renamed,
        // and the fs rule moved into the set: same decisions.
        let moved = """
        warden 1
        # a comment that moves every line down

        permissions toolbox {
          allow fs read, exec "/usr"
        }
        identity a {
          use toolbox
          allow fs read, write "${workspace}"
          allow net connect tcp "10.0.0.0/8:443"
          allow syscall socket(domain in [AF_UNIX, AF_INET])
          allow capability NET_BIND_SERVICE because "another reason"
          limit processes 64
          env pass PATH
          env set CI = "true"
        }

        """
        #expect(try inputs(Self.base) == inputs(moved))
        let d = try diff(Self.base, moved)
        #expect(d.identities.map(\.verdict) == [.equivalent])
    }

    @Test(arguments: [
        ("allow fs read, exec \"/usr\"", "allow fs read, exec \"/usr\", \"/opt\""),
        ("allow fs read, write \"${workspace}\"", "allow fs read \"${workspace}\""),
        ("allow net connect tcp \"10.0.0.0/8:443\"", "allow net connect tcp \"10.0.0.0/8:444\""),
        ("socket(domain in [AF_UNIX, AF_INET])", "socket(domain in [AF_UNIX, AF_INET6])"),
        ("allow capability NET_BIND_SERVICE", "allow capability NET_RAW"),
        ("limit processes 64", "limit processes 65"),
        ("env pass PATH", "env pass PATH, HOME"),
        ("env set CI = \"true\"", "env set CI = \"false\""),
    ])
    func everyRuleChangeMatters(old: String, new: String) throws {
        #expect(Self.base.contains(old))
        let changed = Self.base.replacing(old, with: new)
        #expect(try inputs(Self.base) != inputs(changed))
    }
}
