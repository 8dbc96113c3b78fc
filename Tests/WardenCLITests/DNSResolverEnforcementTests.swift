import Foundation
import Testing

/// Warden's resolver under real enforcement: an agent sends hand-made DNS packets (an
/// UPDATE, records in the additional section, labels holding a dot or a NUL, a compression
/// loop) and ordinary lookups; what reached the fake upstream is checked at the upstream.
/// Serialized: the second test holds the host's `*:53`, which turns off every concurrent
/// run's TCP resolver.
@Suite("DNS resolver under enforcement", .serialized)
struct DNSResolverEnforcementTests {
    static let upstreamHost = "127.0.0.17"

    /// Runs `script` with python3 in a fresh workspace; the status, output, key=value lines
    /// and the workspace (its audit log is next to it).
    func run(_ script: String, upstream: DNSUpstreamRecorder, tag: String) throws -> (Int32, String, [String: String], String) {
        let dir = try NetFixture.tempDir(tag)
        let policy = try NetFixture.policy("""
          allow net connect tcp "allowed.test:80", "*.allowed.test:80"
        """, in: dir)
        try script.write(toFile: dir + "/dns.py", atomically: true, encoding: .utf8)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir, ["/usr/bin/python3", dir + "/dns.py"],
                                                   env: ["WARDEN_DNS_UPSTREAM": "\(Self.upstreamHost):\(upstream.port)"])
        return (status, out, kv, dir)
    }

    @Test func hostileQueriesNeverReachTheUpstreamAndAllowedNamesResolve() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let upstream = try DNSUpstreamRecorder(Self.upstreamHost, records: [
            "allowed.test": [[127, 0, 0, 3]],
            "many.allowed.test": (1...40).map { [10, 0, 1, UInt8($0)] },  // > 512 bytes: TC to the agent
            "huge.allowed.test": (1...90).map { [10, 0, 2, UInt8($0)] },  // > 1232 bytes: TC from the upstream too
        ])
        defer { upstream.stop() }
        // Warden listens on TCP unless a host service holds *:53 (then no TCP fallback).
        let tcpFree = WildcardPort53().map { $0.stop(); return true } ?? false
        let (status, out, kv, dir) = try run(hostileScript, upstream: upstream, tag: "dnsattack")
        #expect(status == 0, "\(out)")
        #expect(kv["update"] == "4", "NOTIMP: \(out)")
        #expect(kv["additional"] == "1", "FORMERR: \(out)")
        #expect(kv["dotted"] == "5", "REFUSED: \(out)")
        #expect(kv["dotted_inner"] == "5", "REFUSED: \(out)")
        #expect(kv["nul"] == "5", "REFUSED: \(out)")
        #expect(kv["pointer"] == "1", "FORMERR: \(out)")
        #expect(kv["other"] == "3", "NXDOMAIN: \(out)")
        #expect(kv["allowed"] == "127.0.0.3", "\(out)")
        // Too large for a datagram: TC over UDP, then glibc asks again over TCP.
        #expect(kv["many_udp"] == "tc=1,an=0", "\(out)")
        if tcpFree {
            #expect(kv["many"] == "40", "\(out)")
            // Warden asked the upstream over TCP itself and passed on at most 64 records.
            #expect(kv["huge_tcp"] == "64", "\(out)")
        }

        // At the upstream: only Warden's own queries for allowed hostnames.
        let received = upstream.received
        #expect(!received.isEmpty)
        let allowedNames: Set<String> = ["allowed.test", "many.allowed.test", "huge.allowed.test"]
        for (_, m) in received {
            #expect(m.count >= 12 && (m[2] >> 3) & 0xF == 0, "opcode: \(m)")
            #expect(m[2] & 0x80 == 0 && m[4] == 0 && m[5] == 1 && m[6...9].allSatisfy { $0 == 0 } && m[10] == 0 && m[11] <= 1, "counts: \(m)")
            let labels = DNSUpstreamRecorder.labels(m) ?? []
            #expect(labels.allSatisfy { !$0.contains(UInt8(ascii: ".")) && !$0.contains(0) }, "\(m)")
            let name = labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".").lowercased()
            #expect(allowedNames.contains(name), "upstream saw \(name)")
        }
        #expect(!tcpFree || received.contains { $0.tcp }, "Warden never used TCP upstream")
        #expect(!received.contains { $0.bytes.count > 12 && $0.bytes[12] == 12 }, "a dotted 12-byte label arrived")

        // Each refusal is a deny.net record naming the parsed name, escaped.
        let records = NetFixture.auditRecords(in: dir)
        let denied = records.filter { ($0["kind"] as? String) == "deny.net" }.compactMap { $0["fields"] as? [String: Any] }
        let deniedNames = Set(denied.compactMap { $0["destination"] as? String })
        #expect(deniedNames.isSuperset(of: ["allowed\\.test", "data.x\\.allowed.test", "allowed\\000.test", "other.test", "allowed.test"]),
                "\(deniedNames)")
        #expect(denied.contains { ($0["rule"] as? String)?.contains("UPDATE") == true })
    }

    /// A TCP connect to the resolver's address on port 53 reaches Warden's own listener or
    /// nothing: with a host service on `*:53`, Warden cannot listen there, and the connect
    /// is an ordinary (denied) destination instead of an exempt one.
    @Test func tcpToTheResolverAddressNeverReachesAHostService() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        guard let host = WildcardPort53() else { print("skip: *:53 is taken on this host"); return }
        defer { host.stop() }
        let upstream = try DNSUpstreamRecorder(Self.upstreamHost, records: ["allowed.test": [[127, 0, 0, 3]]])
        defer { upstream.stop() }
        let (status, out, kv, _) = try run(tcpScript, upstream: upstream, tag: "dnstcp")
        #expect(status == 0, "\(out)")
        #expect(kv["tcp53"] == "ECONNREFUSED", "\(out)")
        #expect(kv["allowed"] == "127.0.0.3", "UDP still resolves: \(out)")
        #expect(host.acceptCount == 0)
    }
}

private let dnsHelpers = #"""
import errno, socket, struct, sys
ns = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")][0]
def name(labels): return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"
def hdr(flags, qd=1, an=0, au=0, ar=0): return struct.pack(">HHHHHH", 0x1234, flags, qd, an, au, ar)
def q(labels, t=1): return name(labels) + struct.pack(">HH", t, 1)
def udp(pkt):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
    s.sendto(pkt, (ns, 53))
    try: return s.recv(65535)
    except OSError as e: return None
    finally: s.close()
def rcode(r): return "none" if r is None else str(r[3] & 15)
A = [b"allowed", b"test"]

"""#

private let hostileScript = dnsHelpers + #"""
def tcp(pkt):
    t = socket.create_connection((ns, 53), timeout=5)
    t.sendall(struct.pack(">H", len(pkt)) + pkt)
    data = b""
    while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
        chunk = t.recv(65535)
        if not chunk: break
        data += chunk
    t.close()
    return data[2:]
rr = lambda owner, t, data: name(owner) + struct.pack(">HHIH", t, 1, 60, len(data)) + data
print("update=" + rcode(udp(hdr(5 << 11, au=1) + q(A, 6) + rr([b"x"] + A, 1, bytes([1, 2, 3, 4])))), flush=True)
print("additional=" + rcode(udp(hdr(0x100, ar=1) + q(A) + rr([b"x"] + A, 16, b"\x01Z"))), flush=True)
print("dotted=" + rcode(udp(hdr(0x100) + q([b"allowed.test"]))), flush=True)
print("dotted_inner=" + rcode(udp(hdr(0x100) + q([b"data", b"x.allowed", b"test"]))), flush=True)
print("nul=" + rcode(udp(hdr(0x100) + q([b"allowed\0", b"test"]))), flush=True)
print("pointer=" + rcode(udp(hdr(0x100) + b"\xc0\x0c" + struct.pack(">HH", 1, 1))), flush=True)
print("other=" + rcode(udp(hdr(0x100) + q([b"other", b"test"]))), flush=True)
try:
    print("allowed=" + socket.getaddrinfo("allowed.test", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0], flush=True)
except socket.gaierror as e:
    print(f"allowed=gaierror:{e.args[0]}", flush=True)
r = udp(hdr(0x100) + q([b"many"] + A))
print("many_udp=" + ("none" if r is None else "tc=%d,an=%d" % ((r[2] >> 1) & 1, struct.unpack(">H", r[6:8])[0])), flush=True)
try:
    print("many=%d" % len({i[4][0] for i in socket.getaddrinfo("many.allowed.test", 80, socket.AF_INET, socket.SOCK_STREAM)}), flush=True)
except socket.gaierror as e:
    print(f"many=gaierror:{e.args[0]}", flush=True)
try:
    r = tcp(hdr(0x100) + q([b"huge"] + A))
    print("huge_tcp=%d" % (struct.unpack(">H", r[6:8])[0] if len(r) >= 12 else -1), flush=True)
except OSError as e:
    print("huge_tcp=" + str(errno.errorcode.get(e.errno, e.errno)), flush=True)
"""#

private let tcpScript = dnsHelpers + #"""
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.settimeout(5)
try:
    t.connect((ns, 53)); print("tcp53=connected", flush=True)
except OSError as e:
    print("tcp53=" + str(errno.errorcode.get(e.errno, e.errno)), flush=True)
try:
    print("allowed=" + socket.getaddrinfo("allowed.test", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0], flush=True)
except socket.gaierror as e:
    print(f"allowed=gaierror:{e.args[0]}", flush=True)
"""#
