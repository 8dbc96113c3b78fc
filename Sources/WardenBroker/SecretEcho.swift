import Foundation
import WardenBrokerProtocol

/// The byte strings that would reveal an injected secret if an upstream sent them back
/// (echo services, TRACE-like debug endpoints, error pages quoting the request): the raw
/// secret value and, for `Basic`, the base64 credential as sent.
enum SecretEcho {
    /// Tokens for one injection. The header value's form is recognised from the value itself:
    /// secret values are printable ASCII without spaces, so a space marks `SCHEME credential`.
    static func tokens(of injection: BrokerInjection) -> [[UInt8]] {
        let value = injection.value
        guard let space = value.firstIndex(of: UInt8(ascii: " ")) else { return [value] }
        let scheme = String(decoding: value[..<space], as: UTF8.self).lowercased()
        let credential = Array(value[(space + 1)...])
        guard scheme == "basic" else { return [credential] }
        var tokens = [credential]
        if let decoded = Data(base64Encoded: Data(credential)).map(Array.init),
           let colon = decoded.firstIndex(of: UInt8(ascii: ":")), colon + 1 < decoded.count {
            tokens.append(Array(decoded[(colon + 1)...]))
        }
        return tokens
    }
}

/// The secret values injected on one agent connection so far, for scanning responses.
struct InjectedSecrets {
    private(set) var tokens: [[UInt8]] = []
    /// The secret name of each token.
    private(set) var names: [String] = []

    mutating func add(_ injections: [BrokerInjection]) {
        for injection in injections {
            for token in SecretEcho.tokens(of: injection) where !token.isEmpty && !tokens.contains(token) {
                tokens.append(token)
                names.append(injection.secretName)
            }
        }
    }

    /// A scanner for one response body, or nil when nothing was injected.
    func scanner() -> PlaceholderScanner? { tokens.isEmpty ? nil : PlaceholderScanner(tokens: tokens) }

    /// The secret name of the first token found in `bytes`, if any.
    func firstFound(in bytes: [UInt8]) -> String? {
        guard !tokens.isEmpty, let match = PlaceholderScanner.firstMatch(of: tokens, in: bytes) else { return nil }
        return names[match.token]
    }
}
