/// Why an identity operation failed. Messages name the file or claim, never key material
/// or a token's signature.
public enum IdentityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A key directory or key file is missing, unsafe (a link, group/other-accessible, not
    /// owned by this user) or malformed.
    case keyFile(path: String, reason: String)
    /// A file-system call failed.
    case io(path: String, operation: String, message: String)
    /// No key exists yet (`warden identity rotate` creates the first).
    case noKey(directory: String)
    /// A token was refused; `reason` says which check failed.
    case invalidToken(String)
    /// A JSON document (token part, JWKS) could not be read.
    case invalidJSON(String)
    /// Signing failed inside the crypto library.
    case signing(String)

    public var description: String {
        switch self {
        case .keyFile(let path, let reason): return "\(path): \(reason)"
        case .io(let path, let operation, let message): return "\(path): \(operation): \(message)"
        case .noKey(let directory):
            return "no issuer key in \(directory); create one with `warden identity rotate` (a run creates one on first use)"
        case .invalidToken(let reason): return "invalid token: \(reason)"
        case .invalidJSON(let reason): return "invalid JSON: \(reason)"
        case .signing(let reason): return "signing failed: \(reason)"
        }
    }
}
