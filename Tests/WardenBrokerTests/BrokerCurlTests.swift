import Foundation
import Testing
@testable import WardenBroker

/// Real clients against the broker: curl offers h2 and http/1.1, sends SNI, verifies the run
/// CA like any agent tool would. Skipped where curl is not installed.
@Suite("Broker with curl", .serialized)
struct BrokerCurlTests {
    static let curlPath = ["/usr/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs curl from a fixed local port the broker was told about; returns (status, stdout).
    func curl(_ f: BrokerFixture, _ args: [String], path: String) throws -> (Int32, String) {
        let caFile = NSTemporaryDirectory() + "warden-run-ca-\(UUID().uuidString).pem"
        try f.broker.certificateAuthorityPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        let (brokerIP, brokerPort) = f.broker.listenAddresses.ipv4
        let localPort = UInt16.random(in: 42000...52000)
        // curl binds 127.0.0.1:localPort... only the source port is chosen; the source address of a
        // connect to 127.66.x.y from the host is 127.0.0.1.
        f.broker.expect(agentSide: (ip: "127.0.0.1", port: localPort), destination: f.destination)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.curlPath!)
        // The agent believes it talks to api.test:<upstream port>; the supervisor's redirect is --connect-to.
        p.arguments = ["-sS", "--max-time", "5", "--cacert", caFile, "--local-port", "\(localPort)",
                       "--connect-to", "api.test:\(f.upstream.port):\(brokerIP):\(brokerPort)"]
            + args + ["https://api.test:\(f.upstream.port)\(path)"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test(.enabled(if: curlPath != nil)) func curlGetsInjectedRequestThrough() throws {
        let f = try BrokerFixture()
        let (status, output) = try curl(f, ["-H", "Authorization: Bearer fake"], path: "/inject/curl")
        #expect(status == 0, "\(output)")
        #expect(output == "ok GET /inject/curl")
        #expect(f.upstream.requests.first?.header("authorization") == ["Bearer \(BrokerFixture.secret)"])
    }

    @Test(.enabled(if: curlPath != nil)) func curlSeesTheRefusal() throws {
        let f = try BrokerFixture()
        let (status, output) = try curl(f, ["-X", "DELETE", "-w", "\n%{http_code}"], path: "/repos/acme/app")
        #expect(status == 0, "\(output)")
        #expect(output.contains("warden: refused by test.warden:7"))
        #expect(output.hasSuffix("403"))
        #expect(f.upstream.requests.isEmpty)
    }

    @Test(.enabled(if: curlPath != nil)) func curlStreamsAPost() throws {
        let f = try BrokerFixture()
        // Over 1 MiB: curl asks `Expect: 100-continue` and waits for the upstream's 100.
        let file = NSTemporaryDirectory() + "warden-body-\(UUID().uuidString)"
        try Data(repeating: 120, count: 3_000_000).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (status, output) = try curl(f, ["--data-binary", "@" + file], path: "/post")
        #expect(status == 0, "\(output)")
        #expect(output == "ok POST /post")
        #expect(f.upstream.requests.first?.bodyCount == 3_000_000)
    }
}
