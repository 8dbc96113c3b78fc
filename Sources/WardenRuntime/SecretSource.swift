import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Where a secret's value comes from at launch (the runtime's mirror of the policy's
/// `secret NAME from env|file|command ...`; the CLI maps the compiler's declaration onto it).
public enum SecretSourceSpec: Sendable, Equatable, CustomStringConvertible {
    /// A variable of Warden's own environment.
    case env(String)
    /// An absolute path to a regular file only its owner (this user or root) can access.
    case file(String)
    /// An absolute program and its arguments, run without a shell as the operator.
    case command([String])

    /// How the source reads in an error (never the value).
    public var description: String {
        switch self {
        case .env(let name): return "env \(TerminalText.escape(name))"
        case .file(let path): return "file \(TerminalText.escape(path))"
        case .command(let argv): return "command \(argv.map { TerminalText.escape($0) }.joined(separator: " "))"
        }
    }
}

/// Why a secret could not be resolved. Names the secret and its source, never the value.
public struct SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    public var secret: String
    public var source: SecretSourceSpec
    public var reason: String

    public var description: String { "secret \(TerminalText.escape(secret)) (from \(source)): \(reason)" }
}

/// Resolves secrets at launch (see docs/identity.md and the policy's `secret` statement).
///
/// Every value must be 1 to 65536 bytes of printable ASCII without spaces (0x21–0x7e):
/// what an HTTP header may carry without folding, quoting or smuggling a line break.
public enum SecretSource {
    /// The largest value (file size, command output) accepted.
    public static let maxBytes = 64 * 1024
    /// How long a `command` source may run before it is killed.
    public static let commandTimeout: Duration = .seconds(30)

    /// Why `source` cannot give a value now, judged without reading or running it (for
    /// `warden doctor`): an unset variable, a missing file, a command that is not an
    /// executable file. nil when it looks usable.
    public static func unavailability(_ source: SecretSourceSpec, environment: [String: String]) -> String? {
        switch source {
        case .env(let name):
            return (environment[name] ?? "").isEmpty ? "\(name) is not set in Warden's environment" : nil
        case .file(let path):
            var st = stat()
            guard lstat(path, &st) == 0 else { return "\(TerminalText.escape(path)): \(String(cString: strerror(errno)))" }
            return st.st_mode & S_IFMT == S_IFREG ? nil : "\(TerminalText.escape(path)) is not a regular file"
        case .command(let argv):
            guard let program = argv.first else { return "no command" }
            return access(program, X_OK) == 0 ? nil : "\(TerminalText.escape(program)) is not an executable file"
        }
    }

    /// The value of `secret` from `source`. `environment` is Warden's own (for `env`);
    /// `timeout` bounds a `command` (tests shorten it).
    public static func resolve(_ source: SecretSourceSpec, secret: String, environment: [String: String],
                               timeout: Duration = commandTimeout) throws(SecretError) -> [UInt8] {
        func fail(_ reason: String) -> SecretError { SecretError(secret: secret, source: source, reason: reason) }
        var value: [UInt8]
        switch source {
        case .env(let name):
            guard let v = environment[name] else { throw fail("\(TerminalText.escape(name)) is not set in Warden's environment") }
            value = Array(v.utf8)
        case .file(let path):
            do { value = try readFile(path) } catch { throw fail(error.reason) }
            if value.last == 0x0A { value.removeLast() }
        case .command(let argv):
            do { value = try SecretCommand.run(argv, timeout: timeout, limit: maxBytes) } catch { throw fail(error.reason) }
            if value.last == 0x0A { value.removeLast() }
        }
        if let problem = check(value) { throw fail(problem) }
        return value
    }

    /// Why `value` is not acceptable, or nil. Never quotes the value.
    static func check(_ value: [UInt8]) -> String? {
        if value.isEmpty { return "the value is empty" }
        if value.count > maxBytes { return "the value is longer than \(maxBytes) bytes" }
        if let i = value.firstIndex(where: { $0 < 0x21 || $0 > 0x7E }) {
            let what = value[i] == 0x0A ? "a line break" : value[i] == 0x20 ? "a space" : "a byte outside printable ASCII"
            return "the value contains \(what) at byte \(i) (only 0x21-0x7e are allowed)"
        }
        return nil
    }

    struct Refusal: Error { var reason: String }

    /// Reads a secret file: absolute path; the last component no link (lstat, then open with
    /// O_NOFOLLOW, and the opened file must be the one lstat saw); a regular file owned by
    /// this user or root with no group/other access; at most `maxBytes`.
    static func readFile(_ path: String) throws(Refusal) -> [UInt8] {
        guard path.hasPrefix("/") else { throw Refusal(reason: "the path is not absolute") }
        var named = stat()
        guard lstat(path, &named) == 0 else { throw Refusal(reason: "cannot read it: \(String(cString: strerror(errno)))") }
        if named.st_mode & S_IFMT == S_IFLNK { throw Refusal(reason: "it is a symbolic link; name the file itself") }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw Refusal(reason: "cannot open it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Refusal(reason: "cannot stat it: \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Refusal(reason: "it is not a regular file") }
        guard st.st_ino == named.st_ino, st.st_dev == named.st_dev else { throw Refusal(reason: "it was replaced while being opened") }
        guard st.st_uid == geteuid() || st.st_uid == 0 else {
            throw Refusal(reason: "it is owned by uid \(st.st_uid); a secret file must belong to this user (uid \(geteuid())) or root")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw Refusal(reason: "it has mode \(String(st.st_mode & 0o7777, radix: 8)); a secret file must not be accessible to group or others (chmod 600)")
        }
        guard st.st_size <= maxBytes else { throw Refusal(reason: "it is larger than \(maxBytes) bytes") }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while out.count <= maxBytes {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Refusal(reason: "cannot read it: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            out += buffer.prefix(n)
        }
        guard out.count <= maxBytes else { throw Refusal(reason: "it grew larger than \(maxBytes) bytes while being read") }
        return out
    }
}

/// The placeholders an agent sees instead of secrets (`env placeholder NAME = SECRET`).
public enum Placeholder {
    public static let prefix = "wdn_ph_"

    /// `wdn_ph_` + 32 lowercase hex digits (128 bits from the system CSPRNG, which is
    /// getrandom(2) on Linux), fresh per call.
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for _ in 0..<2 { withUnsafeBytes(of: rng.next() as UInt64) { bytes += $0 } }
        let digits = Array("0123456789abcdef".utf8)
        var out = Array(prefix.utf8)
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SecretSourceSpec {
    /// The source a policy's `secret` declaration names.
    public init(_ source: WardenPolicy.SecretSource) {
        switch source {
        case .env(let name): self = .env(name)
        case .file(let path): self = .file(path)
        case .command(let argv): self = .command(argv)
        }
    }
}
