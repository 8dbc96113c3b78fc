import WardenKernel
import WardenPolicy

/// `-` on the command line: a policy read from standard input. It is read once, bounded
/// like a policy file, and served to the loader under the name `<stdin>`; its includes
/// resolve relative to the current directory (standard input has no directory).
enum StandardInputPolicy {
    /// The command-line spelling.
    static let argument = "-"
    /// The name diagnostics and reports use for it.
    static let path = "<stdin>"

    /// The loader's name for a command-line path.
    static func loaderPath(_ argument: String) -> String {
        argument == Self.argument ? path : argument
    }

    /// A provider that answers `<stdin>` with standard input (read now) and every other
    /// path from the file system.
    static func provider() throws(SourceProviderError) -> any SourceProvider {
        OverlaySourceProvider(base: FileSystemSourceProvider(), overrides: [path: try readStandardInput()])
    }

    /// The provider for loading `paths`: the file system, plus standard input when one of
    /// them is `-`.
    static func provider(for paths: [String]) throws(SourceProviderError) -> any SourceProvider {
        paths.contains(argument) ? try provider() : FileSystemSourceProvider()
    }
}

/// All of standard input as UTF-8 text, at most `PolicyLoader.defaultMaxFileBytes` bytes.
func readStandardInput() throws(SourceProviderError) -> String {
    let path = StandardInputPolicy.path
    let bytes: [UInt8]
    do {
        bytes = try BoundedFileReader.readAll(0, limit: PolicyLoader.defaultMaxFileBytes)
    } catch {
        throw SourceProviderError(error, path: path, limit: PolicyLoader.defaultMaxFileBytes)
    }
    return try SourceProviderError.text(bytes, path: path)
}
