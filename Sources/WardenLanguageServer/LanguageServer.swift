import WardenPolicy

/// JSON-RPC 2.0 error codes used by the server.
public enum RPCError: Int64, Sendable {
    case parseError = -32700
    case invalidRequest = -32600
    case methodNotFound = -32601
    case invalidParams = -32602
    case serverNotInitialized = -32002
}

/// The language server's state machine: takes one decoded message, returns the messages to
/// send back. No I/O here (see `LanguageServerLoop`), so tests drive it directly.
///
/// Lifecycle (LSP 3.17): requests before `initialize` get `ServerNotInitialized`; after
/// `shutdown` every request but `exit` gets `InvalidRequest`; `exit` ends the server with
/// status 0 after `shutdown`, 1 without. Unknown requests get `MethodNotFound`; unknown
/// notifications are ignored.
public struct LanguageServer {
    /// The most documents held open at once (each at most one message, 8 MiB).
    public static let maxOpenDocuments = 256
    /// The most bytes of text held open over all documents by default (each is also
    /// parsed and checked, which takes several times its size).
    public static let defaultMaxOpenBytes = 32 << 20
    public let maxOpenBytes: Int

    public private(set) var initialized = false
    public private(set) var shutdownRequested = false
    /// Set when `exit` arrives: the process status to end with.
    public private(set) var exitCode: Int32?
    /// Open documents by URI.
    public private(set) var documents: [String: AnalyzedDocument] = [:]
    /// Messages for the operator (standard error), not the client.
    private var log: [String] = []
    /// Each document's `.warden-lint.toml`, found by walking up from its path as `warden
    /// lint` does; files are re-read when they change on disk, and open configuration
    /// documents stand for their files (`overrides`).
    private var lintConfigs = LintConfigLookup(mode: .discover, currentDirectory: "/")
    /// Open `.warden-lint.toml` documents by URI (their text is in `lintConfigs.overrides`).
    private var configDocuments: [String: String] = [:]
    /// Whether the client can watch files for us (`workspace/didChangeWatchedFiles` with
    /// dynamic registration): then `initialized` asks it to watch `.warden-lint.toml`.
    private var clientWatchesFiles = false

    public init(maxOpenBytes: Int = LanguageServer.defaultMaxOpenBytes) {
        self.maxOpenBytes = maxOpenBytes
    }

    /// The operator messages gathered since the last call.
    public mutating func takeLog() -> [String] {
        defer { log = [] }
        return log
    }

    /// Handles the body of one message (JSON text); returns the messages to send.
    public mutating func handle(body: [UInt8]) -> [JSON] {
        let message: JSON
        do {
            message = try JSONParser.parse(body)
        } catch {
            return [Self.error(id: .null, .parseError, error.description)]
        }
        return handle(message)
    }

    public mutating func handle(_ message: JSON) -> [JSON] {
        guard message.isObject else { return [Self.error(id: .null, .invalidRequest, "a message must be a JSON object")] }
        let id = message["id"]
        guard let method = message["method"]?.stringValue else {
            // A response to a request of ours (the server sends none) or garbage.
            if id != nil, message["result"] != nil || message["error"] != nil { return [] }
            return [Self.error(id: id ?? .null, .invalidRequest, "a request needs a string `method`")]
        }
        let params = message["params"]
        guard let id else {
            notification(method, params)
            return pendingNotifications()
        }
        switch id {
        case .int, .string: break
        default: return [Self.error(id: .null, .invalidRequest, "a request id must be an integer or a string")]
        }
        let response = request(method, params, id: id)
        return [response] + pendingNotifications()
    }

    private var outbox: [JSON] = []

    private mutating func pendingNotifications() -> [JSON] {
        defer { outbox = [] }
        return outbox
    }

    // MARK: requests

    private mutating func request(_ method: String, _ params: JSON?, id: JSON) -> JSON {
        if method == "initialize" {
            guard !initialized else { return Self.error(id: id, .invalidRequest, "initialize was already received") }
            initialized = true
            if case .bool(true)? = params?["capabilities"]?["workspace"]?["didChangeWatchedFiles"]?["dynamicRegistration"] {
                clientWatchesFiles = true
            }
            return Self.result(id: id, Self.initializeResult)
        }
        guard initialized else { return Self.error(id: id, .serverNotInitialized, "the first request must be initialize") }
        guard !shutdownRequested else { return Self.error(id: id, .invalidRequest, "the server is shutting down") }
        switch method {
        case "shutdown":
            shutdownRequested = true
            return Self.result(id: id, .null)
        case "textDocument/formatting":
            guard let doc = document(params) else { return Self.result(id: id, .null) }
            return Self.result(id: id, .array(DocumentFormatting.edits(doc)))
        case "textDocument/hover", "textDocument/definition", "textDocument/completion":
            guard let doc = document(params) else { return Self.result(id: id, .null) }
            guard let position = LSPPosition(params?["position"]) else {
                return Self.error(id: id, .invalidParams, "`position` needs non-negative integer `line` and `character`")
            }
            let offset = doc.lines.offset(of: position)
            switch method {
            case "textDocument/hover": return Self.result(id: id, HoverProvider.hover(doc, at: offset))
            case "textDocument/definition": return Self.result(id: id, DefinitionProvider.definition(doc, at: offset))
            default:
                return Self.result(id: id, .object([("isIncomplete", .bool(false)),
                                                    ("items", .array(CompletionProvider.items(doc, at: offset)))]))
            }
        default:
            return Self.error(id: id, .methodNotFound, "unknown method `\(String(method.prefix(100)))`")
        }
    }

    /// The open document a request's `textDocument.uri` names.
    private func document(_ params: JSON?) -> AnalyzedDocument? {
        guard let uri = params?["textDocument"]?["uri"]?.stringValue else { return nil }
        return documents[uri]
    }

    // MARK: notifications

    private mutating func notification(_ method: String, _ params: JSON?) {
        switch method {
        case "exit":
            exitCode = shutdownRequested ? 0 : 1
        case "initialized":
            if initialized, clientWatchesFiles { outbox.append(Self.watchLintConfigurations) }
        case "textDocument/didOpen":
            guard initialized, !shutdownRequested, let item = params?["textDocument"], let uri = item["uri"]?.stringValue,
                  let text = item["text"]?.stringValue else { return }
            guard documents[uri] != nil || configDocuments[uri] != nil || documents.count + configDocuments.count < Self.maxOpenDocuments else {
                log.append("ignoring didOpen: more than \(Self.maxOpenDocuments) documents open")
                return
            }
            if Self.isLintConfiguration(uri) {
                updateConfiguration(uri: uri, text: text)
            } else {
                update(uri: uri, text: text, version: item["version"]?.intValue)
            }
        case "textDocument/didChange":
            // Full synchronisation: the last change holds the whole text.
            guard initialized, !shutdownRequested, let uri = params?["textDocument"]?["uri"]?.stringValue,
                  documents[uri] != nil || configDocuments[uri] != nil,
                  let text = params?["contentChanges"]?.arrayValue?.last?["text"]?.stringValue else { return }
            if configDocuments[uri] != nil {
                updateConfiguration(uri: uri, text: text)
            } else {
                update(uri: uri, text: text, version: params?["textDocument"]?["version"]?.intValue)
            }
        case "textDocument/didSave":
            // A saved configuration is read again (also when the editor does not hold it open).
            guard initialized, !shutdownRequested, let uri = params?["textDocument"]?["uri"]?.stringValue,
                  Self.isLintConfiguration(uri) else { return }
            lintConfigs.forget(Self.path(uri))
            reanalyzeAll()
        case "textDocument/didClose":
            guard let uri = params?["textDocument"]?["uri"]?.stringValue else { return }
            if configDocuments.removeValue(forKey: uri) != nil {
                lintConfigs.overrides[Self.path(uri)] = nil
                outbox.append(DiagnosticsPublisher.cleared(uri: uri))
                reanalyzeAll()
                return
            }
            guard documents.removeValue(forKey: uri) != nil else { return }
            versions[uri] = nil
            outbox.append(DiagnosticsPublisher.cleared(uri: uri))
        case "workspace/didChangeWatchedFiles":
            guard initialized, !shutdownRequested, let changes = params?["changes"]?.arrayValue else { return }
            var changed = false
            for change in changes.prefix(Self.maxOpenDocuments * 4) {
                guard let uri = change["uri"]?.stringValue, Self.isLintConfiguration(uri) else { continue }
                lintConfigs.forget(Self.path(uri))
                changed = true
            }
            if changed { reanalyzeAll() }
        default:
            break  // `$/cancelRequest`, `$/setTrace`, ...: nothing to do.
        }
    }

    /// Whether `uri` names a lint configuration file (`.../.warden-lint.toml`).
    static func isLintConfiguration(_ uri: String) -> Bool {
        let path = Self.path(uri)
        return path.hasPrefix("/") && path.hasSuffix("/" + LintConfiguration.fileName)
    }

    static func path(_ uri: String) -> String { PolicyPaths.normalize(DocumentURI.path(uri)) }

    /// The bytes of text held open, `uri`'s own excepted.
    private func openBytes(except uri: String) -> Int {
        documents.reduce(0) { $0 + ($1.key == uri ? 0 : $1.value.lines.bytes.count) }
            + configDocuments.reduce(0) { $0 + ($1.key == uri ? 0 : $1.value.utf8.count) }
    }

    /// An open configuration document changed: its own diagnostics, then every open policy
    /// analysed again with it.
    private mutating func updateConfiguration(uri: String, text: String) {
        let path = Self.path(uri)
        guard openBytes(except: uri) + text.utf8.count <= maxOpenBytes else {
            configDocuments[uri] = nil
            lintConfigs.overrides[path] = nil
            log.append("not reading a lint configuration document: the open documents would hold more than \(maxOpenBytes >> 20) MiB")
            outbox.append(DiagnosticsPublisher.refused(uri: uri, "warden lsp holds at most \(maxOpenBytes >> 20) MiB of open documents; close some"))
            reanalyzeAll()
            return
        }
        configDocuments[uri] = text
        lintConfigs.overrides[path] = text
        outbox.append(DiagnosticsPublisher.configurationNotification(uri: uri, path: path, text: text))
        reanalyzeAll()
    }

    /// Every open policy analysed again and its diagnostics published (after a lint
    /// configuration changed).
    private mutating func reanalyzeAll() {
        for (uri, doc) in documents.sorted(by: { $0.key < $1.key }) {
            let again = analyze(uri: uri, text: doc.text)
            documents[uri] = again
            outbox.append(DiagnosticsPublisher.notification(again, version: versions[uri] ?? nil))
        }
    }

    private mutating func update(uri: String, text: String, version: Int64?) {
        guard openBytes(except: uri) + text.utf8.count <= maxOpenBytes else {
            documents[uri] = nil
            versions[uri] = nil
            log.append("not analysing a document: the open documents would hold more than \(maxOpenBytes >> 20) MiB")
            outbox.append(DiagnosticsPublisher.refused(uri: uri, "warden lsp holds at most \(maxOpenBytes >> 20) MiB of open policies; close some documents"))
            return
        }
        let doc = analyze(uri: uri, text: text)
        documents[uri] = doc
        versions[uri] = version
        outbox.append(DiagnosticsPublisher.notification(doc, version: version))
        // Open documents that include this one see its new text.
        for (otherURI, other) in documents.sorted(by: { $0.key < $1.key })
        where otherURI != uri && other.policy?.sources[doc.path] != nil {
            let again = analyze(uri: otherURI, text: other.text)
            documents[otherURI] = again
            outbox.append(DiagnosticsPublisher.notification(again, version: versions[otherURI] ?? nil))
        }
    }

    /// Versions of the open documents, as the client numbered them.
    private var versions: [String: Int64?] = [:]

    private mutating func analyze(uri: String, text: String) -> AnalyzedDocument {
        var overrides: [String: String] = [:]
        for (otherURI, doc) in documents where otherURI != uri { overrides[doc.path] = doc.text }
        // The configuration that applies: only for documents with a path on disk.
        let path = Self.path(uri)
        var configuration: LintConfiguration?
        var problem: LintConfigurationError?
        if path.hasPrefix("/") {
            do throws(LintConfigurationError) {
                configuration = try lintConfigs.configuration(forPolicy: path)
            } catch {
                problem = error
            }
        }
        return AnalyzedDocument(uri: uri, text: text, overrides: overrides,
                                lintConfiguration: configuration, lintConfigurationError: problem)
    }

    // MARK: messages

    static let initializeResult: JSON = .object([
        ("capabilities", .object([
            ("textDocumentSync", .object([("openClose", .bool(true)), ("change", .int(1))])),
            ("hoverProvider", .bool(true)),
            ("definitionProvider", .bool(true)),
            ("completionProvider", .object([("triggerCharacters", .array([.string("@"), .string(" ")]))])),
            ("documentFormattingProvider", .bool(true)),
        ])),
        ("serverInfo", .object([("name", .string("warden")), ("version", .string("0.1.0"))])),
    ])

    /// `client/registerCapability`: watch every `.warden-lint.toml` in the workspace, so
    /// the server hears of changes made outside the editor. The client's response is
    /// ignored (without it, a changed file is still read again at the next analysis).
    static let watchLintConfigurations: JSON = .object([
        ("jsonrpc", .string("2.0")), ("id", .string("warden-watch-lint-configuration")),
        ("method", .string("client/registerCapability")),
        ("params", .object([("registrations", .array([.object([
            ("id", .string("warden-lint-configuration")),
            ("method", .string("workspace/didChangeWatchedFiles")),
            ("registerOptions", .object([("watchers", .array([.object([("globPattern", .string("**/" + LintConfiguration.fileName))])]))])),
        ])]))])),
    ])

    static func result(id: JSON, _ result: JSON) -> JSON {
        .object([("jsonrpc", .string("2.0")), ("id", id), ("result", result)])
    }

    static func error(id: JSON, _ code: RPCError, _ message: String) -> JSON {
        .object([("jsonrpc", .string("2.0")), ("id", id),
                 ("error", .object([("code", .int(code.rawValue)), ("message", .string(message))]))])
    }
}
