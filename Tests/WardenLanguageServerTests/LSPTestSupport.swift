@testable import WardenLanguageServer

/// Drives a `LanguageServer` with JSON text, as a client would.
struct TestClient {
    var server = LanguageServer()
    var nextID: Int64 = 1

    /// Sends `initialize` and `initialized`; returns the initialize response.
    mutating func start() -> JSON {
        let reply = request("initialize", .object([("processId", .null), ("rootUri", .null), ("capabilities", .object([]))]))
        _ = server.handle(.object([("jsonrpc", .string("2.0")), ("method", .string("initialized")), ("params", .object([]))]))
        return reply
    }

    /// Sends a request; returns its response (the first message with its id).
    mutating func request(_ method: String, _ params: JSON) -> JSON {
        let id = nextID
        nextID += 1
        let replies = server.handle(.object([("jsonrpc", .string("2.0")), ("id", .int(id)), ("method", .string(method)), ("params", params)]))
        return replies.first { $0["id"] == .int(id) } ?? .null
    }

    /// Sends a notification; returns what the server sent back.
    mutating func notify(_ method: String, _ params: JSON) -> [JSON] {
        server.handle(.object([("jsonrpc", .string("2.0")), ("method", .string(method)), ("params", params)]))
    }

    /// Opens `text` at `uri`; returns the published diagnostics.
    mutating func open(_ uri: String, _ text: String) -> [JSON] {
        let out = notify("textDocument/didOpen", .object([("textDocument", .object([
            ("uri", .string(uri)), ("languageId", .string("warden")), ("version", .int(1)), ("text", .string(text)),
        ]))]))
        return out.first { $0["method"]?.stringValue == "textDocument/publishDiagnostics" }?["params"]?["diagnostics"]?.arrayValue ?? []
    }

    static func at(_ uri: String, _ line: Int, _ character: Int) -> JSON {
        .object([("textDocument", .object([("uri", .string(uri))])),
                 ("position", .object([("line", .int(Int64(line))), ("character", .int(Int64(character)))]))])
    }
}

extension JSON {
    /// `range.start` / `range.end` as (line, character).
    var rangeTuple: (Int64, Int64, Int64, Int64)? {
        guard let r = self["range"], let sl = r["start"]?["line"]?.intValue, let sc = r["start"]?["character"]?.intValue,
              let el = r["end"]?["line"]?.intValue, let ec = r["end"]?["character"]?.intValue else { return nil }
        return (sl, sc, el, ec)
    }
}

/// A small valid policy used by several tests.
let samplePolicy = """
warden 1

permissions toolchain {
  allow fs read, exec "/usr"
  allow syscall @default
}

identity builder {
  description "Builds the project"
  use toolchain
  allow fs read, write "${workspace}"
  deny  fs write "${workspace}/.git/hooks", "${workspace}/.git/config"
  allow capability NET_BIND_SERVICE because "serves docs on port 80"
  limit wall-time 30m
  limit processes 256
  limit memory 4GiB
}

test "builder builds" {
  identity builder
  expect allow fs write "${workspace}/main.c"
}

"""
