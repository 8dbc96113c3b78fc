import WardenTestSupport

/// Seeded random policy pairs for the `warden diff` oracle (see OracleTests).
///
/// Every value comes from a small closed universe, so the oracle's brute force over the
/// universe (OracleUniverse) sees every class the generated rules can tell apart:
/// - paths from a tiny tree (`/a`, `/a/b`, `/a/b/c`, `/d`, `/tmp/t`, `${workspace}/s`, ...);
/// - IPv4 hosts inside the window 10.0.0.0/28 (networks /28 to /32 aligned in it) and the
///   wider networks 10.0.0.0/24, 10.0.0.0/8, 0.0.0.0/0 that contain it; a few IPv6 values;
/// - ports in 0...8 and 65535 (ranges inside 0...8, and `*`); HTTP ports 80, 443, 8080;
/// - domains `a.org`, `b.a.org`, `c.b.a.org`, `x.org` and wildcards over them;
/// - syscall conditions on argument 0 or 1 only, with constants and masks in 0...7;
/// - HTTP path segments `r`, `s`, `v*`, `*` and a final `**`; refs over
///   `heads`, `tags`, `main`, `agent`, `ma*`, `*`, `**`.
/// Texts go through the real loader and checker, so the parser is exercised too.

/// The shared SplitMix64 (`SeededRandom`) with the oracle's seed spreading and helpers.
struct OracleRandom {
    var base: SeededRandom
    init(seed: UInt64) { base = SeededRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678) }

    mutating func next() -> UInt64 { base.next() }

    /// 0..<n
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func int(in r: ClosedRange<Int>) -> Int { r.lowerBound + int(r.count) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
    /// A non-empty random subset, in the original order.
    mutating func subset<T>(_ items: [T]) -> [T] {
        while true {
            let s = items.filter { _ in chance(50) }
            if !s.isEmpty { return s }
        }
    }
}

/// The kinds of policy pairs, one per group of domains the oracle checks.
enum OracleFamily: String, CaseIterable, Sendable, CustomStringConvertible {
    case fs, net, syscall, httpGit = "http-git", grants
    var description: String { rawValue }
}

/// One generated rule: its text and how to mutate it.
protocol OracleRule {
    var text: String { get }
    mutating func mutate(_ rng: inout OracleRandom)
}

// MARK: filesystem

/// The path tree the fs rules draw from (each path's parent is in the list, except the roots).
let oraclePaths = [
    "/", "/a", "/a/b", "/a/b/c", "/d", "/tmp", "/tmp/t", "/dev", "/dev/null", "/proc",
    "${workspace}", "${workspace}/s", "${workspace}/s/t", "${home}", "${home}/h", "${home}/h/i",
    "${tmp}", "${tmp}/t",
]

func oracleParent(_ p: String) -> String? {
    guard let slash = p.lastIndex(of: "/") else { return nil }
    let parent = p[..<slash]
    let candidate = parent.isEmpty ? "/" : String(parent)
    return oraclePaths.contains(candidate) && candidate != p ? candidate : nil
}

func oracleChildren(_ p: String) -> [String] { oraclePaths.filter { oracleParent($0) == p } }

struct FsRule: OracleRule {
    var allow: Bool
    var access: [String]
    var path: String
    var create = false

    static func random(_ rng: inout OracleRandom) -> FsRule {
        var r = FsRule(allow: rng.chance(65), access: rng.subset(["read", "write", "exec"]), path: rng.pick(oraclePaths))
        r.fixCreate(&rng)
        return r
    }

    mutating func fixCreate(_ rng: inout OracleRandom) {
        create = allow && access.contains("write") && path.hasPrefix("${workspace}/") && rng.chance(30)
    }

    var text: String {
        "\(allow ? "allow" : "deny") fs \(access.joined(separator: ", ")) \"\(path)\"\(create ? " create" : "")"
    }

    mutating func mutate(_ rng: inout OracleRandom) {
        switch rng.int(4) {
        case 0: access = rng.subset(["read", "write", "exec"])
        case 1: if let p = oracleParent(path) { path = p } else { path = rng.pick(oraclePaths) }
        case 2: let c = oracleChildren(path); path = c.isEmpty ? rng.pick(oraclePaths) : rng.pick(c)
        default: allow.toggle()
        }
        fixCreate(&rng)
    }
}

struct CacheRule: OracleRule {
    var path: String
    var text: String { "cache \"\(path)\"" }
    mutating func mutate(_ rng: inout OracleRandom) { path = path == "${home}/h" ? "${home}/h/i" : "${home}/h" }
}

// MARK: network

/// A host of a net rule.
enum OracleHost: Equatable {
    /// An IPv4 network inside the window 10.0.0.0/28: offset 0...15, prefix 28...32 (aligned).
    case window(offset: UInt32, prefix: Int)
    /// 10.0.0.0/24, 10.0.0.0/8 or 0.0.0.0/0.
    case wide(prefix: Int)
    case v6(String)
    case domain(String)
    case wildcard(String)
    case any

    static let domains = ["a.org", "b.a.org", "c.b.a.org", "x.org"]
    static let suffixes = ["a.org", "b.a.org", "x.org"]
    static let v6s = ["[fd00::1]", "[fd00::/8]", "[::1]", "[fd00::/127]"]

    static func random(_ rng: inout OracleRandom, addressesOnly: Bool) -> OracleHost {
        switch rng.int(addressesOnly ? 4 : 6) {
        case 0, 1: return aligned(offset: UInt32(rng.int(16)), prefix: rng.int(in: 28...32))
        case 2: return rng.chance(50) ? .wide(prefix: rng.pick([24, 8, 0])) : .any
        case 3: return .v6(rng.pick(v6s))
        case 4: return .domain(rng.pick(domains))
        default: return .wildcard(rng.pick(suffixes))
        }
    }

    static func aligned(offset: UInt32, prefix: Int) -> OracleHost {
        let size = UInt32(1) << UInt32(32 - prefix)
        return .window(offset: offset / size * size, prefix: prefix)
    }

    var text: String {
        switch self {
        case .window(let o, let p): return p == 32 ? "10.0.0.\(o)" : "10.0.0.\(o)/\(p)"
        case .wide(let p): return p == 0 ? "0.0.0.0/0" : p == 8 ? "10.0.0.0/8" : "10.0.0.0/24"
        case .v6(let s): return s
        case .domain(let d): return d
        case .wildcard(let s): return "*.\(s)"
        case .any: return "*"
        }
    }

    var isName: Bool {
        switch self {
        case .domain, .wildcard: return true
        default: return false
        }
    }

    mutating func mutate(_ rng: inout OracleRandom, addressesOnly: Bool) {
        switch self {
        case .window(let o, let p):
            // CIDR prefix ±1 (28 widens to the /24 outside the window) or the next address.
            switch rng.int(3) {
            case 0: self = p == 28 ? .wide(prefix: 24) : .aligned(offset: o, prefix: p - 1)
            case 1: self = p == 32 ? .window(offset: o, prefix: 32) : .aligned(offset: o, prefix: p + 1)
            default: self = .aligned(offset: (o + (UInt32(1) << UInt32(32 - p))) % 16, prefix: p)
            }
        case .wide(let p): self = p == 24 ? .aligned(offset: 0, prefix: 28) : .wide(prefix: p == 8 ? 24 : 8)
        case .domain(let d): self = addressesOnly ? .any : .wildcard(OracleHost.suffixes.contains(d) ? d : "a.org")
        case .wildcard(let s): self = addressesOnly ? .any : .domain(s)
        default: self = .random(&rng, addressesOnly: addressesOnly)
        }
    }
}

struct NetRule: OracleRule {
    var allow: Bool
    var bind: Bool
    var udp: Bool
    var host: OracleHost
    /// nil: `*`.
    var ports: ClosedRange<Int>?

    static let singlePorts = Array(0...8) + [65535]

    static func random(_ rng: inout OracleRandom) -> NetRule {
        let bind = rng.chance(25)
        return NetRule(allow: rng.chance(70), bind: bind, udp: rng.chance(25),
                       host: .random(&rng, addressesOnly: bind), ports: randomPorts(&rng))
    }

    static func randomPorts(_ rng: inout OracleRandom) -> ClosedRange<Int>? {
        switch rng.int(6) {
        case 0: return nil
        case 1, 2: let a = rng.int(in: 0...8), b = rng.int(in: 0...8); return min(a, b)...max(a, b)
        default: let p = rng.pick(singlePorts); return p...p
        }
    }

    var text: String {
        let p = ports.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" } ?? "*"
        let h = host.text
        return "\(allow ? "allow" : "deny") net \(bind ? "bind" : "connect") \(udp ? "udp" : "tcp") \"\(h):\(p)\""
    }

    mutating func mutate(_ rng: inout OracleRandom) {
        switch rng.int(6) {
        case 0: host.mutate(&rng, addressesOnly: bind)
        case 1:
            // A range edge ±1 (inside 0...8), or `*` ⇄ one port.
            guard let r = ports, r.upperBound <= 8 else { ports = ports == nil ? rng.int(in: 0...8)...8 : nil; return }
            var lo = r.lowerBound, hi = r.upperBound
            if rng.chance(50) { lo = max(0, min(hi, lo + (rng.chance(50) ? 1 : -1))) } else { hi = min(8, max(lo, hi + (rng.chance(50) ? 1 : -1))) }
            ports = lo...hi
        case 2: allow.toggle()
        case 3: udp.toggle()
        case 4: if !host.isName { bind.toggle() }
        default: ports = NetRule.randomPorts(&rng)
        }
    }
}

// MARK: syscalls

/// The syscalls whose first two arguments are plain integers and that no built-in
/// safeguard conditions: the only ones the generator writes conditions for.
let oracleConditionSyscalls = ["kill", "fcntl", "flock", "dup2"]
/// Unconditional rules (several interact with built-ins: socket and setsockopt with the
/// network safeguards, clone with unshare, setuid with CAP_SETUID, openat/chmod with the
/// set-id mode safeguards, ioctl with TIOCSTI).
let oraclePlainSyscalls = ["ptrace", "bpf", "socket", "setsockopt", "ioctl", "clone", "unshare", "chmod", "openat", "setuid", "getpid"]
let oracleGroups = ["@id-switch", "@chown", "@basic-io", "@network-io"]

struct SyscallConditionSpec: Equatable {
    var argument: Int
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `&`, `in`.
    var op: String
    var k: Int
    var mask: Int = 7
    var values: [Int] = []

    static let ops = ["==", "!=", "<", "<=", ">", ">=", "&", "in"]

    static func random(_ rng: inout OracleRandom) -> SyscallConditionSpec {
        var c = SyscallConditionSpec(argument: rng.int(2), op: rng.pick(ops), k: rng.int(in: 0...7))
        c.normalize(&rng)
        return c
    }

    mutating func normalize(_ rng: inout OracleRandom) {
        if op == "&" {
            if mask == 0 { mask = rng.int(in: 1...7) }
            k &= mask
        }
        if op == "in", values.isEmpty { values = Array(Set([k, rng.int(in: 0...7)])).sorted() }
    }

    var text: String {
        switch op {
        case "&": return "arg\(argument) & \(mask) == \(k)"
        case "in": return "arg\(argument) in [\(values.map(String.init).joined(separator: ", "))]"
        default: return "arg\(argument) \(op) \(k)"
        }
    }

    mutating func mutate(_ rng: inout OracleRandom) {
        switch rng.int(4) {
        case 0: k = max(0, min(7, k + (rng.chance(50) ? 1 : -1))); if op == "in" { values = Array(Set(values + [k])).sorted() }
        case 1: op = rng.pick(SyscallConditionSpec.ops); values = []
        case 2: if op == "&" { mask = max(1, min(7, mask ^ (1 << rng.int(3)))) } else { argument = 1 - argument }
        default: if op == "in" { values = values.count > 1 ? Array(values.dropLast()) : values + [(k + 2) % 8] } else { k = rng.int(in: 0...7) }
        }
        normalize(&rng)
    }
}

struct SyscallRule: OracleRule {
    var allow: Bool
    var name: String
    var conditions: [SyscallConditionSpec] = []
    var errno: String?

    static func random(_ rng: inout OracleRandom) -> SyscallRule {
        var r: SyscallRule
        switch rng.int(10) {
        case 0...4:
            r = SyscallRule(allow: rng.chance(60), name: rng.pick(oracleConditionSyscalls),
                            conditions: (0..<rng.int(3)).map { _ in SyscallConditionSpec.random(&rng) })
        case 5...8: r = SyscallRule(allow: rng.chance(60), name: rng.pick(oraclePlainSyscalls))
        default: r = SyscallRule(allow: rng.chance(80), name: rng.chance(5) ? "@default" : rng.pick(oracleGroups))
        }
        if !r.allow, rng.chance(30) { r.errno = rng.pick(["ENOSYS", "EACCES"]) }
        return r
    }

    var text: String {
        let conds = conditions.isEmpty ? "" : "(" + conditions.map(\.text).joined(separator: ", ") + ")"
        return "\(allow ? "allow" : "deny") syscall \(name)\(conds)\(allow ? "" : errno.map { " errno \($0)" } ?? "")"
    }

    mutating func mutate(_ rng: inout OracleRandom) {
        let conditional = oracleConditionSyscalls.contains(name)
        switch rng.int(conditional ? 6 : 3) {
        case 0: allow.toggle()
        case 1: errno = errno == nil ? rng.pick(["ENOSYS", "EACCES"]) : nil   // errno-only changes widen nothing
        case 2: if conditional { name = rng.pick(oracleConditionSyscalls) } else { name = rng.pick(oraclePlainSyscalls + oracleGroups) }
        case 3: if !conditions.isEmpty { conditions.remove(at: rng.int(conditions.count)) }
        case 4: conditions.append(.random(&rng))
        default: if !conditions.isEmpty { conditions[rng.int(conditions.count)].mutate(&rng) } else { conditions.append(.random(&rng)) }
        }
    }
}

// MARK: grants (capabilities, limits, environment)

struct CapabilityRule: OracleRule {
    var allow: Bool
    var name: String
    static let names = ["NET_BIND_SERVICE", "SYS_PTRACE", "CHOWN", "SETUID", "setgid"]
    var text: String { "\(allow ? "allow" : "deny") capability \(name)" }
    mutating func mutate(_ rng: inout OracleRandom) {
        if rng.chance(50) { allow.toggle() } else { name = rng.pick(CapabilityRule.names) }
    }
}

struct LimitRule: OracleRule {
    var kind: String
    var value: Int
    static let kinds = ["processes", "open-files", "memory", "address-space", "file-size", "cpu-time", "wall-time"]
    var text: String {
        switch kind {
        case "processes", "open-files": return "limit \(kind) \(value)"
        case "cpu-time", "wall-time": return "limit \(kind) \(value)m"
        default: return "limit \(kind) \(value)KiB"
        }
    }
    mutating func mutate(_ rng: inout OracleRandom) { value = max(1, value + (rng.chance(50) ? 1 : -1)) }
}

struct EnvRule: OracleRule {
    /// `pass`, `set` or `placeholder`.
    var kind: String
    var name: String
    var value: String
    static let names = ["A", "B", "PATH"]
    var text: String {
        switch kind {
        case "pass": return "env pass \(name)"
        case "set": return "env set \(name) = \"\(value)\""
        default: return "env placeholder \(name) = \(value)"
        }
    }
    static func random(_ rng: inout OracleRandom) -> EnvRule {
        let kind = rng.pick(["pass", "set", "placeholder"])
        return EnvRule(kind: kind, name: rng.pick(names), value: kind == "placeholder" ? rng.pick(["tok", "key"]) : rng.pick(["1", "2"]))
    }
    mutating func mutate(_ rng: inout OracleRandom) {
        switch rng.int(3) {
        case 0: name = rng.pick(EnvRule.names)
        case 1: value = kind == "placeholder" ? (value == "tok" ? "key" : "tok") : (value == "1" ? "2" : "1")
        default: self = .random(&rng)
        }
    }
}

// MARK: http and git push

struct HTTPRule: OracleRule {
    var allow: Bool
    var https: Bool
    /// nil: `*`.
    var methods: [String]?
    var host: String
    var port: Int?
    var path: String
    /// `bearer tok`, `bearer key`, `header "X-K" key`.
    var injection: String?

    static let hosts = ["a.org", "b.a.org", "*.a.org", "x.org", "10.0.0.3"]
    static let paths = ["/", "/**", "/r", "/r/**", "/r/*", "/r/s", "/*/s", "/v*", "/r/v*/**", "/s/**", "/R/s"]
    static let methodSets: [[String]?] = [["GET"], ["GET", "POST"], ["DELETE"], nil, ["PUT"], ["POST"]]
    static let injections = ["bearer tok", "bearer key", "header \"X-K\" key"]

    static func random(_ rng: inout OracleRandom) -> HTTPRule {
        let host = rng.pick(hosts)
        var r = HTTPRule(allow: rng.chance(65), https: host != "10.0.0.3" && rng.chance(75), methods: rng.pick(methodSets),
                         host: host, port: rng.chance(20) ? 8080 : nil, path: rng.pick(paths))
        if r.allow, r.https || rng.chance(20), rng.chance(40) { r.injection = rng.pick(injections) }
        return r
    }

    var text: String {
        let m = methods.map { $0.joined(separator: ", ") } ?? "*"
        let with = allow ? injection.map { " with \($0)" } ?? "" : ""
        return "\(allow ? "allow" : "deny") \(https ? "https" : "http") \(m) \"\(host)\(port.map { ":\($0)" } ?? "")\(path)\"\(with)"
    }

    mutating func mutate(_ rng: inout OracleRandom) {
        switch rng.int(6) {
        case 0: allow.toggle()
        case 1: methods = rng.pick(HTTPRule.methodSets)
        case 2: path = rng.pick(HTTPRule.paths)
        case 3: host = rng.pick(HTTPRule.hosts); if host == "10.0.0.3" { https = false }
        case 4: injection = injection == nil ? rng.pick(HTTPRule.injections) : nil
        default: port = port == nil ? 8080 : nil
        }
    }
}

struct GitPushRule: OracleRule {
    var allow: Bool
    var repo: String
    var refs: [String]
    static let repos = ["a.org/o/r", "a.org/o/s", "b.a.org/o/r", "a.org:8443/o/r", "a.org/o/r.git"]
    static let refPatterns = ["refs/heads/main", "refs/heads/*", "refs/heads/agent/*", "refs/heads/agent/**", "refs/tags/**", "refs/**", "refs/heads/ma*"]
    var text: String {
        "\(allow ? "allow" : "deny") git push \"\(repo)\" ref \(refs.map { "\"\($0)\"" }.joined(separator: ", "))"
    }
    static func random(_ rng: inout OracleRandom) -> GitPushRule {
        GitPushRule(allow: rng.chance(65), repo: rng.pick(repos), refs: [rng.pick(refPatterns)] + (rng.chance(20) ? [rng.pick(refPatterns)] : []))
    }
    mutating func mutate(_ rng: inout OracleRandom) {
        switch rng.int(3) {
        case 0: allow.toggle()
        case 1: repo = rng.pick(GitPushRule.repos)
        default: refs[rng.int(refs.count)] = rng.pick(GitPushRule.refPatterns)
        }
    }
}

// MARK: pairs

/// A policy pair: the same identity `a` before and after one to three mutations.
struct OraclePair: Sendable {
    var family: OracleFamily
    var seed: UInt64
    var oldRules: [String]
    var newRules: [String]

    static func text(_ rules: [String]) -> String {
        "warden 1\nsecret tok from env \"WARDEN_ORACLE_T\"\nsecret key from env \"WARDEN_ORACLE_K\"\nidentity a {\n"
            + rules.map { "  " + $0 + "\n" }.joined() + "}\n"
    }

    var oldText: String { Self.text(oldRules) }
    var newText: String { Self.text(newRules) }
}

enum OracleGenerator {
    /// The pair for `seed` in `family` (deterministic).
    static func pair(_ family: OracleFamily, seed: UInt64) -> OraclePair {
        var rng = OracleRandom(seed: seed ^ (UInt64(OracleFamily.allCases.firstIndex(of: family)!) << 56))
        var rules: [any OracleRule] = []
        for _ in 0..<rng.int(in: 1...5) { rules.append(randomRule(family, &rng)) }
        // A few rules of other domains that change built-ins or decisions across domains.
        switch family {
        case .net where rng.chance(20): rules.append(HTTPRule.random(&rng))
        case .syscall where rng.chance(25): rules.append(NetRule.random(&rng))
        case .syscall where rng.chance(25): rules.append(CapabilityRule(allow: true, name: rng.pick(["SETUID", "SETGID"])))
        case .grants where rng.chance(30): rules.append(SyscallRule(allow: true, name: "@id-switch"))
        case .httpGit where rng.chance(20): rules.append(NetRule.random(&rng))
        default: break
        }
        let old = rules
        var new = rules
        for _ in 0..<rng.int(in: 1...3) {
            switch rng.int(4) {
            case 0: new.append(randomRule(family, &rng))
            case 1: if !new.isEmpty { new.remove(at: rng.int(new.count)) }
            default:
                if new.isEmpty { new.append(randomRule(family, &rng)) } else {
                    let i = rng.int(new.count)
                    new[i].mutate(&rng)
                }
            }
        }
        var pair = OraclePair(family: family, seed: seed, oldRules: old.map(\.text), newRules: new.map(\.text))
        if rng.chance(50) { swap(&pair.oldRules, &pair.newRules) }   // as many narrowings as widenings
        return pair
    }

    static func randomRule(_ family: OracleFamily, _ rng: inout OracleRandom) -> any OracleRule {
        switch family {
        case .fs: return rng.chance(10) ? CacheRule(path: rng.pick(["${home}/h", "${home}/h/i"])) : FsRule.random(&rng)
        case .net: return NetRule.random(&rng)
        case .syscall: return SyscallRule.random(&rng)
        case .httpGit: return rng.chance(70) ? HTTPRule.random(&rng) : GitPushRule.random(&rng)
        case .grants:
            switch rng.int(4) {
            case 0: return CapabilityRule(allow: rng.chance(70), name: rng.pick(CapabilityRule.names))
            case 1: return LimitRule(kind: rng.pick(LimitRule.kinds), value: rng.int(in: 1...3))
            case 2: return CacheRule(path: rng.pick(["${home}/h", "${home}/h/i"]))
            default: return EnvRule.random(&rng)
            }
        }
    }
}
