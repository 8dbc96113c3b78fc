/// Loads a policy file and its includes (each file once; missing files and cycles are
/// reported at the `include`), then parses and checks them as one policy. Every file is
/// read through the provider with a size limit, and all files of one load share a budget,
/// so neither one file nor include fan-out can make a load hold unbounded memory.
public struct PolicyLoader: Sendable {
    public var provider: any SourceProvider

    /// How deep includes may nest (bounds recursion on hostile input).
    public static let maxIncludeDepth = 32
    /// The largest policy file read (far above any real policy; bounds memory and time).
    public static let defaultMaxFileBytes = 16 << 20
    /// The most bytes read over all files of one load (the root and every include).
    public static let defaultMaxTotalBytes = 64 << 20
    /// The longest line of a policy file (far above any real statement; a file with a
    /// longer line is refused before it is parsed).
    public static let maxLineBytes = 64 << 10

    /// The largest file this loader reads.
    public var maxFileBytes: Int
    /// The most bytes this loader reads over all files of one load.
    public var maxTotalBytes: Int

    public init(provider: any SourceProvider = FileSystemSourceProvider(),
                maxFileBytes: Int = PolicyLoader.defaultMaxFileBytes,
                maxTotalBytes: Int = PolicyLoader.defaultMaxTotalBytes) {
        self.provider = provider
        self.maxFileBytes = maxFileBytes
        self.maxTotalBytes = maxTotalBytes
    }

    /// Reads and parses `root` and, recursively, its includes. Throws only when `root`
    /// itself cannot be read; include problems are diagnostics (`include-unreadable` for
    /// I/O problems, see `Diagnostic.isInputError`).
    public func load(_ root: String) throws(SourceProviderError) -> (files: [PolicyFile], diagnostics: [Diagnostic]) {
        let rootPath = PolicyPaths.normalize(root)
        let text = try provider.read(rootPath, limit: maxFileBytes)
        var state = LoadState(maxFileBytes: maxFileBytes, maxTotalBytes: maxTotalBytes)
        state.bytesRead = text.utf8.count
        state.visit(SourceFile(path: rootPath, text: text), provider: provider)
        return (state.files, state.diagnostics)
    }

    /// Loads, parses and checks `root`; diagnostics sorted by file, line, column.
    public func analyze(_ root: String) throws(SourceProviderError) -> PolicyAnalysis {
        let (files, loadDiagnostics) = try load(root)
        let (policy, checkDiagnostics) = PolicyChecker.check(files)
        return PolicyAnalysis(policy: policy, diagnostics: (loadDiagnostics + checkDiagnostics).sortedForOutput())
    }
}

/// A checked policy with every diagnostic found while loading, parsing and checking it.
public struct PolicyAnalysis: Sendable {
    /// Built from whatever was valid; use it only when `hasErrors` is false.
    public var policy: CheckedPolicy
    /// Sorted by file, line, column.
    public var diagnostics: [Diagnostic]
    public var hasErrors: Bool { diagnostics.hasErrors }
    public var sources: [String: SourceFile] { policy.sources }
}

private struct LoadState {
    let maxFileBytes: Int
    let maxTotalBytes: Int
    var files: [PolicyFile] = []
    var diagnostics: [Diagnostic] = []
    var loaded: Set<String> = []
    /// Files being loaded, outermost first, with the include that led to the next.
    var stack: [(path: String, include: SourceSpan?)] = []
    /// Bytes read so far by this load (bounded by `maxTotalBytes`).
    var bytesRead = 0

    mutating func visit(_ source: SourceFile, provider: any SourceProvider) {
        loaded.insert(source.path)
        let (file, parseDiagnostics) = Parser.parse(source)
        diagnostics.append(contentsOf: parseDiagnostics)
        stack.append((source.path, nil))
        defer {
            stack.removeLast()
            // Post-order: a file's includes come before it, as if pasted at the top.
            files.append(file)
        }
        for item in file.items {
            guard case .include(let inc) = item else { continue }
            let target = PolicyPaths.resolve(inc.path.value, relativeTo: source.path)
            if let i = stack.firstIndex(where: { $0.path == target }) {
                let chain = stack[i...].map(\.path) + [target]
                var notes: [RelatedNote] = []
                for k in i..<(stack.count - 1) {
                    if let s = stack[k].include { notes.append(RelatedNote("`\(stack[k + 1].path)` is included here", at: s)) }
                }
                diagnostics.append(.error("include-cycle", "include cycle: " + chain.joined(separator: " → "), at: inc.path.span,
                                          help: "remove one of the includes in the cycle", notes: notes))
                continue
            }
            if loaded.contains(target) { continue }
            if stack.count >= PolicyLoader.maxIncludeDepth {
                diagnostics.append(.error("include-too-deep", "includes are nested more than \(PolicyLoader.maxIncludeDepth) files deep",
                                          at: inc.path.span, help: "include the files from a common root instead of chaining them"))
                continue
            }
            if inc.path.value.isEmpty {
                diagnostics.append(.error("include-not-found", "include path is empty", at: inc.path.span))
                continue
            }
            let text: String
            do {
                text = try read(target, provider: provider)
            } catch .notFound {
                diagnostics.append(.error("include-not-found", "included file `\(target)` does not exist", at: inc.path.span,
                                          help: "include paths are relative to the including file's directory"))
                continue
            } catch {
                diagnostics.append(.error(Diagnostic.includeUnreadableCode, "cannot include `\(target)`: \(error.reason)", at: inc.path.span,
                                          help: error.help))
                continue
            }
            stack[stack.count - 1].include = inc.path.span
            visit(SourceFile(path: target, text: text), provider: provider)
        }
    }

    /// Reads an include within what is left of the load's byte budget.
    mutating func read(_ path: String, provider: any SourceProvider) throws(SourceProviderError) -> String {
        let remaining = max(0, maxTotalBytes - bytesRead)
        let limit = min(maxFileBytes, remaining)
        let text: String
        do {
            text = try provider.read(path, limit: limit)
        } catch .tooLarge(let p, _, _) where limit < maxFileBytes {
            throw .tooLarge(path: p, limit: maxTotalBytes, total: true)
        }
        bytesRead += text.utf8.count
        return text
    }
}
