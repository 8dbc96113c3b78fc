import Foundation
import Testing

/// Drives the real `warden lsp` binary with LSP messages on standard input.
@Suite(.serialized) struct LanguageServerCLITests {
    struct Session {
        var status: Int32
        var finished: Bool
        var stderr: String
        /// The messages the server wrote, decoded.
        var messages: [[String: Any]]
    }

    static func frame(_ message: [String: Any]) -> [UInt8] {
        let body = try! JSONSerialization.data(withJSONObject: message)
        return Array("Content-Length: \(body.count)\r\n\r\n".utf8) + Array(body)
    }

    /// Runs `warden lsp` with `input` on standard input; kills it after `timeout` seconds.
    static func lsp(_ input: [UInt8], timeout: Double = 20) throws -> Session? {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else {
            print("skip: \(WardenBinary.path) not built")
            return nil
        }
        let inputPath = NSTemporaryDirectory() + "warden-lsp-in-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: inputPath, contents: Data(input))
        defer { try? FileManager.default.removeItem(atPath: inputPath) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: WardenBinary.path)
        p.arguments = ["lsp"]
        p.standardInput = FileHandle(forReadingAtPath: inputPath)
        let capture = try OutputCapture(attachedTo: p)
        defer { capture.remove() }
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        let finished = !p.isRunning
        if !finished { p.terminate(); p.waitUntilExit() }
        let stdout = try Data(contentsOf: URL(fileURLWithPath: capture.base + ".out"))
        let (_, stderr) = try capture.read()
        return Session(status: p.terminationStatus, finished: finished, stderr: stderr, messages: messages(Array(stdout)))
    }

    /// Splits the server's output into decoded JSON bodies.
    static func messages(_ bytes: [UInt8]) -> [[String: Any]] {
        var out: [[String: Any]] = []
        var rest = bytes[...]
        let separator = Array("\r\n\r\n".utf8)
        while let range = rest.firstRange(of: separator) {
            let header = String(decoding: rest[..<range.lowerBound], as: UTF8.self)
            guard let length = Int(header.replacingOccurrences(of: "Content-Length: ", with: "")) else { break }
            let body = rest[range.upperBound...].prefix(length)
            if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] { out.append(object) }
            rest = rest[(range.upperBound + length)...]
        }
        return out
    }

    static let initialize = frame(["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ["processId": NSNull(), "capabilities": [:] as [String: Any]]])
    static let initialized = frame(["jsonrpc": "2.0", "method": "initialized", "params": [:] as [String: Any]])
    static let shutdownExit = frame(["jsonrpc": "2.0", "id": 99, "method": "shutdown"]) + frame(["jsonrpc": "2.0", "method": "exit"])

    static func didOpen(_ uri: String, _ text: String) -> [UInt8] {
        frame(["jsonrpc": "2.0", "method": "textDocument/didOpen",
               "params": ["textDocument": ["uri": uri, "languageId": "warden", "version": 1, "text": text]]])
    }

    @Test func initializeDiagnosticsFormattingAndShutdown() throws {
        let uri = "file:///nonexistent-lsp-dir/p%C3%A9.warden"
        let policy = "warden 1\nidentity x {\n  description \"é😀\"\n    allow syscall nosuchcall\n}\n"
        let formatting = Self.frame(["jsonrpc": "2.0", "id": 2, "method": "textDocument/formatting",
                                     "params": ["textDocument": ["uri": uri], "options": ["tabSize": 2, "insertSpaces": true]]])
        guard let session = try Self.lsp(Self.initialize + Self.initialized + Self.didOpen(uri, policy) + formatting + Self.shutdownExit) else { return }
        #expect(session.finished)
        #expect(session.status == 0, "\(session.stderr)")
        let initResult = session.messages.first { $0["id"] as? Int == 1 }?["result"] as? [String: Any]
        let caps = initResult?["capabilities"] as? [String: Any]
        #expect(caps?["hoverProvider"] as? Bool == true)
        #expect(caps?["documentFormattingProvider"] as? Bool == true)
        let published = session.messages.first { $0["method"] as? String == "textDocument/publishDiagnostics" }?["params"] as? [String: Any]
        #expect(published?["uri"] as? String == uri)
        let diagnostics = published?["diagnostics"] as? [[String: Any]] ?? []
        let unknown = try #require(diagnostics.first { $0["code"] as? String == "unknown-syscall" })
        let range = unknown["range"] as? [String: [String: Int]]
        #expect(range?["start"]?["line"] == 3)
        #expect(range?["start"]?["character"] == 18)
        #expect(range?["end"]?["character"] == 28)
        let edits = session.messages.first { $0["id"] as? Int == 2 }?["result"] as? [[String: Any]]
        #expect(edits?.count == 1)
        #expect((edits?.first?["newText"] as? String)?.contains("\n  allow syscall nosuchcall\n") == true)
        #expect(session.messages.contains { $0["id"] as? Int == 99 && $0.keys.contains("result") })
    }

    @Test func exitWithoutShutdownIsStatusOne() throws {
        guard let session = try Self.lsp(Self.initialize + Self.frame(["jsonrpc": "2.0", "method": "exit"])) else { return }
        #expect(session.finished)
        #expect(session.status == 1)
    }

    @Test func unknownMethodAndInvalidJSONGetErrorResponses() throws {
        let bad = Array("Content-Length: 9\r\n\r\n{not json".utf8)
        let unknown = Self.frame(["jsonrpc": "2.0", "id": 7, "method": "workspace/nosuch"])
        guard let session = try Self.lsp(Self.initialize + bad + unknown + Self.shutdownExit) else { return }
        #expect(session.status == 0)
        let codes = session.messages.compactMap { ($0["error"] as? [String: Any])?["code"] as? Int }
        #expect(codes == [-32700, -32601])
    }

    // MARK: attacks: each ends quickly with a non-zero status and a message, never a crash.

    func expectCleanRefusal(_ input: [UInt8], _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let session = try Self.lsp(input, timeout: 20) else { return }
        #expect(session.finished, "did not finish", sourceLocation: sourceLocation)
        #expect(session.status == 1, "status \(session.status): \(session.stderr)", sourceLocation: sourceLocation)
        #expect(session.stderr.contains(expected), "\(session.stderr)", sourceLocation: sourceLocation)
    }

    @Test func garbageIsRefused() throws {
        try expectCleanRefusal(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), "malformed header line `GET / HTTP/1.1`")
        try expectCleanRefusal(Array("Host: x\r\nContent-Type: y\r\n\r\n{}".utf8), "without Content-Length")
        try expectCleanRefusal(Array("hello there\r\n\r\n".utf8), "malformed header")
    }

    @Test func hugeContentLengthIsRefusedBeforeReading() throws {
        try expectCleanRefusal(Self.initialize + Array("Content-Length: 99999999999\r\n\r\n{}".utf8), "over the limit")
        try expectCleanRefusal(Array("Content-Length: 999999999999999999999999\r\n\r\n".utf8), "invalid Content-Length")
    }

    @Test func truncatedBodyEndsTheServer() throws {
        try expectCleanRefusal(Self.initialize + Array("Content-Length: 500\r\n\r\n{\"jsonrpc\":".utf8), "ended inside a message")
    }

    @Test func nulBytesAreRefusedOrAnsweredWithParseError() throws {
        try expectCleanRefusal(Array("Content-Length: 2\u{0}\r\n\r\n{}".utf8), "malformed header")
        let nulBody: [UInt8] = Array("Content-Length: 16\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 16)
        guard let session = try Self.lsp(Self.initialize + nulBody + Self.shutdownExit) else { return }
        #expect(session.status == 0)
        #expect(session.messages.contains { ($0["error"] as? [String: Any])?["code"] as? Int == -32700 })
    }

    @Test func endlessHeaderAndDeepNestingAreBounded() throws {
        try expectCleanRefusal([UInt8](repeating: UInt8(ascii: "A"), count: 4 << 20), "header longer than")
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 4 << 20)
        let input = Self.initialize + Array("Content-Length: \(deep.count)\r\n\r\n".utf8) + deep + Self.shutdownExit
        guard let session = try Self.lsp(input) else { return }
        #expect(session.finished)
        #expect(session.status == 0)
        #expect(session.messages.contains { ($0["error"] as? [String: Any])?["code"] as? Int == -32700 })
    }
}
