import Testing
@testable import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Reads files relative to a directory, so diagnostics show stable relative paths.
struct DirectoryProvider: SourceProvider {
    let root: String
    func read(_ path: String) throws(SourceProviderError) -> String {
        do {
            return try FileSystemSourceProvider().read(root + "/" + path)
        } catch .notFound {
            throw .notFound(path: path)
        } catch {
            throw error
        }
    }
}

/// Each `Golden/NAME.warden` is linted; the text output must equal `NAME.expected.txt`
/// (and the JSON output `NAME.expected.json` when present). Set WARDEN_UPDATE_GOLDEN=1
/// to rewrite the expected files after an intended change.
@Suite struct GoldenTests {
    static let dir = packageRoot + "/Tests/WardenPolicyTests/Golden"
    static let cases = StockPolicies.list(dir).sorted()

    @Test(arguments: cases)
    func golden(_ name: String) throws {
        let analysis = try PolicyLoader(provider: DirectoryProvider(root: Self.dir)).analyze(name)
        let base = String(name.dropLast(".warden".count))
        let text = DiagnosticRenderer.text(analysis.diagnostics, sources: analysis.sources)
        try compare(text, with: base + ".expected.txt")
        if let _ = try? FileSystemSourceProvider().read(Self.dir + "/" + base + ".expected.json") {
            try compare(DiagnosticRenderer.json(analysis.diagnostics), with: base + ".expected.json")
        }
    }

    @Test func goldenSetIsComplete() {
        #expect(Self.cases.count >= 5)
    }

    func compare(_ actual: String, with file: String) throws {
        let path = Self.dir + "/" + file
        if getenv("WARDEN_UPDATE_GOLDEN") != nil {
            let f = fopen(path, "w")
            defer { if f != nil { fclose(f) } }
            _ = actual.withCString { fputs($0, f) }
            return
        }
        let expected = try FileSystemSourceProvider().read(path)
        #expect(actual == expected, "golden mismatch for \(file); rerun with WARDEN_UPDATE_GOLDEN=1 if intended")
    }
}
