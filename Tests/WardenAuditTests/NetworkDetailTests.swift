import Testing
@testable import WardenAudit

/// The additive `deny.net` / `net.connect` fields: operation, decided_by, explain.
@Suite struct NetworkDetailTests {
    @Test func detailFieldsAreWrittenAndKeepOperationsApart() {
        var agg = DenialAggregator(windowNanos: 1_000_000_000_000, maxKeys: 100)
        let t = AuditTime(seconds: 1, nanoseconds: 0)
        let connect = NetworkDetail(operation: "connect", decidedBy: "own-loopback", explain: ["--connect", "tcp", "127.0.0.1:5432"])
        let send = NetworkDetail(operation: "sendto", decidedBy: "default", explain: ["--connect", "udp", "127.0.0.1:5432"])
        for _ in 0..<3 {
            _ = agg.addNetwork(denied: true, destination: "127.0.0.1", port: 5432, proto: "tcp", domain: nil, pid: 7,
                               rule: "no rule allows connect tcp 127.0.0.1:5432", detail: connect, at: t)
        }
        _ = agg.addNetwork(denied: true, destination: "127.0.0.1", port: 5432, proto: "tcp", domain: nil, pid: 7,
                           rule: "no rule allows connect tcp 127.0.0.1:5432", detail: send, at: t)
        _ = agg.addNetwork(denied: true, destination: "10.0.0.1", port: 22, proto: "tcp", domain: nil, pid: 7, rule: nil, at: t)
        let out = agg.drain()
        #expect(out.count == 3, "a connect and a send to one endpoint are separate records")
        #expect(out[0].fields["operation"] == .string("connect"))
        #expect(out[0].fields["decided_by"] == .string("own-loopback"))
        #expect(out[0].fields["explain"] == .strings(["--connect", "tcp", "127.0.0.1:5432"]))
        #expect(out[0].fields["count"] == 3)
        #expect(out[1].fields["operation"] == .string("sendto"))
        // Without a detail (older writers, DNS lookups) the record is what it always was.
        #expect(out[2].fields["operation"] == nil && out[2].fields["explain"] == nil && out[2].fields["decided_by"] == nil)
    }

    @Test func auditShowPrintsTheOperationAndTheExplainCommand() throws {
        let event = AuditEvent.network(denied: true, destination: "0.0.0.0", port: 8080, proto: "tcp", domain: nil, pid: 3,
                                       rule: "no rule allows bind tcp 0.0.0.0:8080", first: AuditTime(seconds: 1, nanoseconds: 0),
                                       last: AuditTime(seconds: 1, nanoseconds: 0),
                                       detail: NetworkDetail(operation: "bind", decidedBy: "default", explain: ["--bind", "tcp", "0.0.0.0:8080"]))
        let f = event.fields
        let rec = AuditRecord(seq: 1, ts: "2026-01-01T00:00:00.000000Z", kind: event.kind, run: "r", fields: f,
                              prev: String(repeating: "0", count: 64))
        let text = TimelineText.line(rec)
        #expect(text.contains("deny       net bind tcp 0.0.0.0:8080 ×1, pid 3, rule no rule allows bind tcp 0.0.0.0:8080 (default)"), "\(text)")
        #expect(text.contains("explain    warden explain <policy> --bind tcp 0.0.0.0:8080"), "\(text)")
    }
}
