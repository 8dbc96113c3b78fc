import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `warden audit export --to otlp` against a local collector stand-in (python3's http.server,
/// keeping every request it is sent): the records arrive as OTLP/HTTP JSON logs with their
/// chain position; a collector that refuses, or none at all, is exit 1; https is refused.
@Suite(.serialized) struct AuditOTLPCLITests {
    /// A stand-in collector: answers `status` to every POST and stores each body in `dir`.
    final class Collector {
        let process = Process()
        let port: Int

        init(dir: String, status: Int = 200) throws {
            let script = """
            import http.server, sys, os
            out, status = sys.argv[1], int(sys.argv[2])
            class H(http.server.BaseHTTPRequestHandler):
                n = 0
                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    H.n += 1
                    with open(os.path.join(out, "req-%d.json" % H.n), "wb") as f: f.write(body)
                    with open(os.path.join(out, "req-%d.meta" % H.n), "w") as f: f.write(self.path + "\\n" + self.headers["Content-Type"])
                    self.send_response(status); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
                def log_message(self, *a): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            with open(os.path.join(out, "port.tmp"), "w") as f: f.write(str(s.server_address[1]))
            os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
            s.serve_forever()
            """
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script, dir, String(status)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            var found: Int?
            for _ in 0..<100 where found == nil {
                found = (try? String(contentsOfFile: dir + "/port", encoding: .utf8)).flatMap { Int($0) }
                if found == nil { usleep(50_000) }
            }
            guard let found else { kill(process.processIdentifier, SIGKILL); throw CollectorFailure() }
            port = found
        }

        /// SIGKILL: the test process may hold SIGTERM blocked, and its children inherit that.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    struct CollectorFailure: Error, CustomStringConvertible {
        var description: String { "the python3 collector stand-in did not start" }
    }

    static func requests(_ dir: String) -> [[String: Any]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))) as? [String: Any] }
    }

    @Test func recordsArriveAsOTLPLogsWithTheirChainPosition() throws {
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try AuditExportCLITests.twoRunLog(d) else { return }
        let got = d + "/got"
        try FileManager.default.createDirectory(atPath: got, withIntermediateDirectories: true)
        let collector = try Collector(dir: got)
        defer { collector.stop() }
        let o = try #require(try AuditCLITests.warden(["audit", "export", log, "--to", "otlp", "--otlp-endpoint", "http://127.0.0.1:\(collector.port)/v1/logs"]))
        #expect(o.status == 0, "\(o.stderr)")
        let requests = Self.requests(got)
        #expect(requests.count == 1)
        let meta = (try? String(contentsOfFile: got + "/req-1.meta", encoding: .utf8)) ?? ""
        #expect(meta == "/v1/logs\napplication/json", "\(meta)")
        let resourceLogs = try #require(requests.first?["resourceLogs"] as? [[String: Any]])
        let resource = try #require(resourceLogs.first?["resource"] as? [String: Any])
        #expect("\(resource)".contains("service.name") && "\(resource)".contains("warden"))
        let scopeLogs = try #require(resourceLogs.first?["scopeLogs"] as? [[String: Any]])
        let records = try #require(scopeLogs.first?["logRecords"] as? [[String: Any]])
        // Every record of the log, checkpoints included, in chain order.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(records.count == lines.count && lines.count >= 4)
        func attribute(_ r: [String: Any], _ key: String) -> [String: Any]? {
            (r["attributes"] as? [[String: Any]])?.first { $0["key"] as? String == key }?["value"] as? [String: Any]
        }
        for (i, r) in records.enumerated() {
            #expect(attribute(r, "warden.sequence")?["intValue"] as? String == String(i))
            #expect((attribute(r, "warden.hash")?["stringValue"] as? String)?.count == 64)
            #expect(Int(r["timeUnixNano"] as? String ?? "") ?? 0 > 1_700_000_000_000_000_000)
            // The body is the exported line: the stored record, parseable, with its sequence.
            let body = try #require((r["body"] as? [String: Any])?["stringValue"] as? String)
            let line = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(line["sequence"] as? Int == i)
        }
        let denial = try #require(records.first { attribute($0, "warden.kind")?["stringValue"] as? String == "deny.net" })
        let start = try #require(records.first { attribute($0, "warden.kind")?["stringValue"] as? String == "run.start" })
        #expect(denial["severityText"] as? String == "WARN" && denial["severityNumber"] as? Int == 13, "deny.net is a warning")
        #expect(start["severityText"] as? String == "INFO" && start["severityNumber"] as? Int == 9)
        #expect(attribute(denial, "warden.identity")?["stringValue"] as? String == "updater")
    }

    @Test func aRefusingCollectorNoCollectorAndHTTPSAreErrors() throws {
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try AuditExportCLITests.twoRunLog(d) else { return }
        let got = d + "/got"
        try FileManager.default.createDirectory(atPath: got, withIntermediateDirectories: true)
        let collector = try Collector(dir: got, status: 503)
        let refused = try #require(try AuditCLITests.warden(["audit", "export", log, "--to", "otlp", "--otlp-endpoint", "http://127.0.0.1:\(collector.port)/v1/logs"]))
        collector.stop()
        #expect(refused.status == 1 && refused.stderr.contains("answered 503") && refused.stderr.contains("records not delivered"), "\(refused.stderr)")
        // Nothing listens there any more.
        let absent = try #require(try AuditCLITests.warden(["audit", "export", log, "--to", "otlp", "--otlp-endpoint", "http://127.0.0.1:\(collector.port)/v1/logs"]))
        #expect(absent.status == 1 && absent.stderr.contains("cannot connect"), "\(absent.stderr)")
        for bad in ["https://collector.example/v1/logs", "http://", "http://host:0/x", "ftp://x"] {
            let o = try #require(try AuditCLITests.warden(["audit", "export", log, "--to", "otlp", "--otlp-endpoint", bad]))
            #expect(o.status == 2 && o.stderr.contains("--otlp-endpoint"), "\(bad): \(o.stderr)")
        }
        let wrongPair = try #require(try AuditCLITests.warden(["audit", "export", log, "--otlp-endpoint", "http://127.0.0.1:1/x"]))
        #expect(wrongPair.status == 2 && wrongPair.stderr.contains("--to otlp"))
    }
}
