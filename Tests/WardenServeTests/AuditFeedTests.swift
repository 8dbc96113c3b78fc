import Foundation
import Synchronization
import Testing
@testable import WardenServe
#if canImport(Glibc)
import Glibc
#endif

/// `/api/events`: appended records reach subscribers as server-sent events, whole lines
/// only, only the kinds the feed streams; the subscriber cap holds; a log that is replaced
/// is read from its new start.
@Suite struct AuditFeedTests {
    final class Events: ServeHandler {
        let feed: AuditFeed
        init(_ feed: AuditFeed) { self.feed = feed }
        func handle(_ request: ServeRequest) -> ServeResponse { .events(feed) }
    }

    static func line(_ kind: String, _ run: String) -> String {
        #"{"v":1,"seq":0,"ts":"2026-12-07T00:00:00.000000Z","kind":"\#(kind)","run":"\#(run)","fields":{},"prev":"x"}"#
    }

    static func append(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// Reads from `client` until `expected` appears (or 5 s pass).
    static func read(_ client: RawHTTPClient, until expected: String) -> String {
        var seen = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .seconds(5)
        while !seen.contains(expected), ContinuousClock.now < deadline {
            let n = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { seen += String(decoding: buffer[0..<n], as: UTF8.self) } else if n == 0 { break } else { usleep(10_000) }
        }
        return seen
    }

    @Test func appendedRecordsStreamAsWholeEventsOfTheKindsShown() throws {
        let dir = StoreTempDir()
        let log = dir.file("audit.jsonl")
        Self.append(log, Self.line("run.start", "old") + "\n")
        let feed = AuditFeed(path: log)
        feed.start()
        defer { feed.stop() }
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Events(feed))
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        defer { client.close() }
        client.send("GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = Self.read(client, until: ": warden serve events")
        #expect(head.contains("text/event-stream"), "\(head)")
        #expect(Self.wait { feed.subscriberCount == 1 })
        // A record written in two pieces, a kind not streamed, then a denial.
        Self.append(log, String(Self.line("run.exit", "r1").prefix(30)))
        usleep(400_000)
        Self.append(log, String(Self.line("run.exit", "r1").dropFirst(30)) + "\n" + Self.line("note", "r1") + "\n" + Self.line("deny.syscall", "r1") + "\n")
        let got = Self.read(client, until: "deny.syscall")
        #expect(got.contains("data: " + Self.line("run.exit", "r1") + "\n\n"), "\(got)")
        #expect(got.contains("deny.syscall"))
        #expect(!got.contains("\"note\"") && !got.contains("\"old\""), "only streamed kinds, from the end at start: \(got)")
    }

    @Test func theSubscriberCapHoldsAndClosedReadersAreForgotten() throws {
        let dir = StoreTempDir()
        let feed = AuditFeed(path: dir.file("audit.jsonl"))
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Events(feed))
        defer { server.stop() }
        var clients: [RawHTTPClient] = []
        for _ in 0..<AuditFeed.maxSubscribers {
            let c = try RawHTTPClient(port: server.port)
            c.send("GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n")
            clients.append(c)
        }
        #expect(Self.wait { feed.subscriberCount == AuditFeed.maxSubscribers })
        let extra = try RawHTTPClient(port: server.port, timeout: 5)
        extra.send("GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n")
        let (bytes, timedOut) = extra.readAll()
        #expect(!timedOut, "the one over the cap is ended, not kept waiting")
        #expect(String(decoding: bytes, as: UTF8.self).contains("text/event-stream"))
        extra.close()
        for c in clients { c.close() }
        #expect(Self.wait { feed.subscriberCount == 0 })
    }

    @Test func aReplacedLogIsReadFromItsNewStart() throws {
        let dir = StoreTempDir()
        let log = dir.file("audit.jsonl")
        Self.append(log, Self.line("run.start", "a") + "\n" + Self.line("run.exit", "a") + "\n")
        let feed = AuditFeed(path: log)
        feed.start()
        defer { feed.stop() }
        unlink(log)
        Self.append(log, Self.line("trigger.allow", "b") + "\n")
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Events(feed))
        defer { server.stop() }
        #expect(Self.wait {
            // A new subscriber gets the recent records: the new file's first one.
            guard let c = try? RawHTTPClient(port: server.port) else { return false }
            defer { c.close() }
            c.send("GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n")
            return Self.read(c, until: "trigger.allow").contains("trigger.allow")
        })
    }

    static func wait(_ condition: () -> Bool) -> Bool {
        for _ in 0..<100 {
            if condition() { return true }
            usleep(50_000)
        }
        return false
    }
}
