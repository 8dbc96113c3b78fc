import Crypto
import WardenAudit

/// The runs as JSON (`/api/runs`) and as a small HTML page (`/`). Every value that came
/// from a peer (repository, trigger names, errors) is escaped for its context.
enum StatusPage {
    static func json(_ run: QueuedRun) -> AuditValue {
        func opt(_ s: String?) -> AuditValue { s.map { .string($0) } ?? .null }
        func opt(_ n: Int64?) -> AuditValue { n.map { .int($0) } ?? .null }
        return .object([
            "id": .int(run.id), "trigger": .string(run.trigger), "identity": .string(run.identity), "source": .string(run.source),
            "repository": opt(run.repository), "delivery": opt(run.deliveryID), "decision_id": .string(run.decision),
            "commit": opt(run.commit), "state": .string(run.state.rawValue), "enqueued_ms": .int(run.enqueuedAt),
            "started_ms": opt(run.startedAt), "finished_ms": opt(run.finishedAt), "run_id": opt(run.runID),
            "exit_code": run.exitCode.map { .int(Int64($0)) } ?? .null, "error": opt(run.error), "workspace": opt(run.workspace),
            "fleet_id": opt(run.fleetID), "attempt": .int(Int64(run.attempt)),
        ])
    }

    /// The page's one script: live records from `/api/events`, added as text (never as HTML).
    static let liveScript = """
        const list = document.getElementById("live");
        const source = new EventSource("/api/events");
        source.onmessage = (e) => {
          let r; try { r = JSON.parse(e.data); } catch (_) { return; }
          const f = r.fields || {};
          const what = f.name || f.path || f.host || f.trigger || f.reason || "";
          const li = document.createElement("li");
          li.textContent = r.ts + "  " + r.kind + "  run " + r.run + "  " + what;
          list.prepend(li);
          while (list.children.length > 100) list.lastChild.remove();
        };
        """

    /// Nothing but the page's own style and its one script (by hash) may run; it may connect
    /// only to this server.
    static let contentSecurityPolicy: String = {
        let hash = Base64.encode(Array(SHA256.hash(data: Array(liveScript.utf8))))
        return "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-\(hash)'; connect-src 'self'"
    }()

    static func html(_ runs: [QueuedRun], queue: [RunState: Int], paused: Bool, stopped: Set<String> = [], live: Bool = false,
                     fleets: [(FleetRecord, AuditValue)] = []) -> String {
        var out = """
        <!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
        <title>warden serve</title><style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
        td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}code{font-size:12px}</style></head><body>
        <h1>warden serve</h1>
        """
        out += "<p>" + RunState.allCases.map { "\($0.rawValue): \(queue[$0] ?? 0)" }.joined(separator: " · ")
        out += paused ? " · <strong>paused</strong> (new launches are held)" : ""
        if !stopped.isEmpty { out += " · <strong>stopped by the kill switch:</strong> " + escape(stopped.sorted().joined(separator: ", ")) }
        out += "</p>"
        if !fleets.isEmpty {
            out += "<h2>Fleets</h2><table><tr><th>fleet</th><th>trigger</th><th>repositories</th><th>succeeded</th><th>failed</th><th>not run</th><th>attempts</th><th>state</th></tr>"
            for (fleet, aggregate) in fleets {
                let summary = aggregate["summary"]
                func n(_ key: String) -> String { summary?[key]?.intValue.map(String.init) ?? "?" }
                let cells = [fleet.trigger, n("repositories"), n("succeeded"), n("failed"), n("not_run"), n("attempts"),
                             aggregate["done"]?.boolValue == true ? "done" : "going"]
                out += "<tr><td><a href=\"/api/fleets/\(escape(fleet.id))\"><code>\(escape(fleet.id))</code></a></td>"
                    + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
            }
            out += "</table><h2>Runs</h2>"
        }
        out += "<table><tr><th>#</th><th>trigger</th><th>identity</th><th>repository</th><th>state</th><th>exit</th><th>run</th><th>error</th></tr>"
        for run in runs {
            let cells = [String(run.id), run.trigger, run.identity, run.repository ?? "", run.state.rawValue,
                         run.exitCode.map { String($0) } ?? "", run.runID ?? "", run.error ?? ""]
            out += "<tr>" + cells.enumerated().map { i, c in
                i == 6 && !c.isEmpty ? "<td><a href=\"/api/runs/\(run.id)/records\"><code>\(escape(c))</code></a></td>" : "<td>\(escape(c))</td>"
            }.joined() + "</tr>"
        }
        out += "</table><p><a href=\"/api/runs\">JSON</a> · <a href=\"/metrics\">metrics</a></p>"
        if live {
            out += "<h2>As it happens</h2><p><small>decisions, run starts and ends, denials</small></p><ul id=\"live\"></ul>"
            out += "<script>\(liveScript)</script>"
        }
        out += "</body></html>\n"
        return out
    }

    /// HTML text escaping; control characters are shown as `\u{..}` rather than sent.
    static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars.prefix(500) {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.properties.generalCategory == .format {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
