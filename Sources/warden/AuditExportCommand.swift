import ArgumentParser
import WardenAudit
import WardenKernel

#if canImport(Glibc)
import Glibc
#endif

/// `warden audit export`: records for a SIEM, a syslog daemon or journald.
struct AuditExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export records as JSON Lines or OCSF events, to stdout, syslog (RFC 5424), journald or an OpenTelemetry collector (OTLP/HTTP).",
        discussion: """
            Every record is checked against the hash chain as it is read; a line that is not a good \
            record is reported on stderr and not exported. Exit codes: 0 exported; 1 lines that are \
            not good records were found, --run names a run that is not in the log, or the destination \
            cannot be reached (journald or syslog absent, the collector refuses); 2 usage or I/O error.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case jsonl, ocsf }
    enum Destination: String, ExpressibleByArgument, CaseIterable { case stdout, syslog, journald, otlp }

    @Argument(help: "The log file (default: the standard location).")
    var log: String?

    @Option(help: "jsonl (each record as stored, with its sequence and hash) or ocsf (OCSF 1.3 events).")
    var format: Format = .jsonl

    @Option(name: .customLong("to"), help: "stdout, syslog (RFC 5424 datagrams), journald (native protocol) or otlp (OTLP/HTTP JSON logs).")
    var destination: Destination = .stdout

    @Option(name: .customLong("syslog-address"), help: "unix:PATH or udp:HOST:PORT (default unix:/dev/log).")
    var syslogAddress: String?

    @Option(name: .customLong("otlp-endpoint"), help: "The collector's OTLP/HTTP logs endpoint (default http://127.0.0.1:4318/v1/logs).")
    var otlpEndpoint: String?

    @Option(name: .customLong("journal-socket"), help: "journald's native socket (default /run/systemd/journal/socket).")
    var journalSocket: String = "/run/systemd/journal/socket"

    @Option(name: .customLong("run"), help: "Only this run id.")
    var runID: String?

    @Option(help: "Only records of this kind.")
    var kind: String?

    @Option(help: "Only runs of this identity (as named in their run.start).")
    var identity: String?

    @Option(help: "Only records written at or after TIME (RFC 3339, or 30s, 10m, 2h, 1d ago).")
    var since: String?

    @Option(help: "Only records written at or before TIME (RFC 3339, or 30s, 10m, 2h, 1d ago).")
    var until: String?

    @Flag(help: "Keep exporting records as they are appended; stop with SIGINT or SIGTERM.")
    var follow = false

    func validate() throws {
        if log == "" { throw ValidationError("the log path is empty") }
        if syslogAddress != nil && destination != .syslog { throw ValidationError("--syslog-address needs --to syslog") }
        if let a = syslogAddress, DatagramSender.Address.parse(a) == nil {
            throw ValidationError("--syslog-address: expected unix:PATH or udp:HOST:PORT, got \(TerminalText.escape(a, maxScalars: 200))")
        }
        if journalSocket.isEmpty { throw ValidationError("--journal-socket: the path is empty") }
        if otlpEndpoint != nil && destination != .otlp { throw ValidationError("--otlp-endpoint needs --to otlp") }
        if let e = otlpEndpoint {
            do { _ = try HTTPPoster(endpoint: e) } catch { throw ValidationError("--otlp-endpoint: \(error.description)") }
        }
        _ = try AuditSelection.filter(run: runID, kind: kind, identity: identity, since: since, until: until)
    }

    func run() throws {
        let path = AuditLocation.resolve(explicit: log)
        var filter = try AuditSelection.filter(run: runID, kind: kind, identity: identity, since: since, until: until)
        filter.includeCheckpoints = true
        let sink = try makeSink()
        var mapper = OCSFMapper(defaultHost: Self.hostname())
        var problems = 0
        var output: [UInt8] = []
        var deliveryError: String?
        var batch: [AuditValue] = []
        func flush() {
            if case .otlp(let poster) = sink, !batch.isEmpty, deliveryError == nil {
                do { try poster.post(OTLPLogs.request(batch, hostname: Self.hostname(), version: WardenVersion.string)) } catch {
                    deliveryError = "otlp: \(error.description) (\(batch.count) records not delivered)"
                }
                batch.removeAll(keepingCapacity: true)
            }
            guard !output.isEmpty else { return }
            StdoutWriter.write(output)
            output.removeAll(keepingCapacity: true)
        }
        do {
            try AuditFollower(path: path).run(
                follow: follow, notice: { auditNotice($0) }, idle: flush, stop: { deliveryError != nil }
            ) { entry in
                guard deliveryError == nil else { return }
                switch entry {
                case .unfinished(let line, let bytes):
                    auditNotice("line \(line): unfinished last line (\(bytes) bytes without a newline: a torn or ongoing write); not exported")
                case .problem(let line, let message):
                    problems += 1
                    auditNotice("line \(line): \(TerminalText.escape(message, maxScalars: 400))")
                case .record(let rec, _, let hash):
                    mapper.observe(rec)
                    guard filter.matches(rec) else { return }
                    let line = format == .jsonl ? AuditExportLine.jsonl(rec, hash: hash) : AuditExportLine.ocsf(mapper.event(rec, hash: hash))
                    switch sink {
                    case .stdout:
                        output.append(contentsOf: line)
                        output.append(0x0A)
                        if output.count >= 1 << 16 { flush() }
                    case .syslog(let sender):
                        let msg = SyslogMessage.format(
                            rec, hash: hash, identity: mapper.identity(ofRun: rec.run), msg: line, hostname: Self.hostname(),
                            procID: getpid())
                        do { try sender.send(msg) } catch { deliveryError = "\(error)" }
                    case .otlp:
                        batch.append(OTLPLogs.logRecord(rec, hash: hash, identity: mapper.identity(ofRun: rec.run), body: line))
                        if batch.count >= OTLPLogs.batchSize { flush() }
                    case .journald(let sender):
                        let msg = JournalMessage.format(rec, hash: hash, identity: mapper.identity(ofRun: rec.run), msg: line)
                        do { try sender.send(msg) } catch { deliveryError = "\(error)" }
                    }
                }
            }
        } catch {
            flush()
            throw auditFail("\(error)")
        }
        flush()
        if let deliveryError {
            auditNotice(deliveryError)
            throw ExitCode(1)
        }
        try AuditSelection.requireRunSeen(filter, path: path)
        if problems > 0 {
            auditNotice("\(problems) line(s) were not exported (not good records); run `warden audit verify \(path)`")
            throw ExitCode(1)
        }
    }

    enum Sink {
        case stdout
        case syslog(DatagramSender)
        case journald(DatagramSender)
        case otlp(HTTPPoster)
    }

    private func makeSink() throws -> Sink {
        switch destination {
        case .stdout: return .stdout
        case .otlp:
            do { return .otlp(try HTTPPoster(endpoint: otlpEndpoint ?? "http://127.0.0.1:4318/v1/logs")) } catch {
                auditNotice("otlp: \(error.description)")
                throw ExitCode(2)
            }
        case .syslog:
            let address = syslogAddress.flatMap(DatagramSender.Address.parse) ?? .unix("/dev/log")
            do { return .syslog(try DatagramSender(address)) } catch {
                auditNotice("syslog: \(error) (is a syslog daemon listening? choose another with --syslog-address)")
                throw ExitCode(1)
            }
        case .journald:
            var st = stat()
            guard lstat(journalSocket, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK else {
                auditNotice("journald is not running here: no socket at \(journalSocket) (use --to syslog instead)")
                throw ExitCode(1)
            }
            do { return .journald(try DatagramSender(.unix(journalSocket))) } catch {
                auditNotice("journald: \(error)")
                throw ExitCode(1)
            }
        }
    }

    static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "-" }
        return String(cString: buf)
    }
}

/// Writes bytes to standard output, whole, retrying on EINTR (stdout closed: stop quietly).
enum StdoutWriter {
    static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(1, b.baseAddress! + off, b.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                off += n
            }
        }
    }
}
