import Foundation
import WardenBrokerProtocol

/// A secret the broker scans every brokered response for (``BrokerConfiguration/scannedSecrets``).
public struct BrokerScannedSecret: Sendable {
    /// The secret's name, for events.
    public var name: String
    /// The value. Secret: never logged, never in an event.
    public var value: [UInt8]
    /// Users it is sent with in `Authorization: Basic` (their base64 credentials are scanned whole too).
    public var basicUsers: [String]

    public init(name: String, value: [UInt8], basicUsers: [String] = []) {
        self.name = name
        self.value = value
        self.basicUsers = basicUsers
    }
}

/// The raw secret values behind injections, recognised from the header value itself: secret
/// values are printable ASCII without spaces, so a space marks `SCHEME credential`.
enum SecretEcho {
    static func scanned(from injection: BrokerInjection) -> BrokerScannedSecret {
        let value = injection.value
        guard let space = value.firstIndex(of: UInt8(ascii: " ")) else {
            return BrokerScannedSecret(name: injection.secretName, value: value)
        }
        let scheme = String(decoding: value[..<space], as: UTF8.self).lowercased()
        let credential = Array(value[(space + 1)...])
        if scheme == "basic", let decoded = Data(base64Encoded: Data(credential)).map(Array.init),
           let colon = decoded.firstIndex(of: UInt8(ascii: ":")), colon + 1 < decoded.count {
            let user = String(decoding: decoded[..<colon], as: UTF8.self)
            return BrokerScannedSecret(name: injection.secretName, value: Array(decoded[(colon + 1)...]), basicUsers: [user])
        }
        return BrokerScannedSecret(name: injection.secretName, value: credential)
    }
}

/// The patterns of every secret a response is scanned for: all of the run's secrets
/// (``BrokerConfiguration/scannedSecrets``, built once per broker) and any value injected on
/// this connection that is not among them. Matching is case-folded (``SecretEchoPatterns``).
struct EchoPatternSet: Sendable {
    private(set) var tokens: [[UInt8]] = []
    /// The secret name of each token.
    private(set) var names: [String] = []
    private var values: Set<[UInt8]> = []
    private var seen: Set<[UInt8]> = []
    /// Built once for the current tokens; copied per response.
    private(set) var scanner: PlaceholderScanner?

    init(_ secrets: [BrokerScannedSecret] = []) {
        add(secrets)
    }

    mutating func add(_ secrets: [BrokerScannedSecret]) {
        var changed = false
        for secret in secrets where !secret.value.isEmpty {
            for token in SecretEchoPatterns.patterns(value: secret.value, basicUsers: secret.basicUsers)
            where seen.insert(token).inserted {
                tokens.append(token)
                names.append(secret.name)
                changed = true
            }
            values.insert(secret.value)
        }
        if changed { scanner = PlaceholderScanner(tokens: tokens) }
    }

    /// Adds the injected values not scanned already.
    mutating func add(_ injections: [BrokerInjection]) {
        let fresh = injections.map(SecretEcho.scanned).filter { !values.contains($0.value) || !$0.basicUsers.isEmpty }
        if !fresh.isEmpty { add(fresh) }
    }

    /// A scanner for one response body, or nil when there is nothing to scan for.
    func bodyScanner() -> EchoScanner? { scanner.map(EchoScanner.init) }

    /// The secret name of the first token found in `bytes`, if any.
    func firstFound(in bytes: [UInt8]) -> String? {
        guard var scanner else { return nil }
        return scanner.feed(SecretEchoPatterns.folded(bytes)).found.map { names[$0] }
    }
}

/// A ``PlaceholderScanner`` run over a case-folded copy of a body that releases the original
/// bytes (folding keeps lengths, so the released counts line up).
struct EchoScanner: Sendable {
    private var scanner: PlaceholderScanner
    private var unreleased: [UInt8] = []

    init(_ scanner: PlaceholderScanner) { self.scanner = scanner }

    /// The original bytes that may be released, and the index of a token found (then nothing more may be sent).
    mutating func feed(_ bytes: [UInt8]) -> (forward: [UInt8], found: Int?) {
        unreleased += bytes
        let r = scanner.feed(SecretEchoPatterns.folded(bytes))
        if let found = r.found { return ([], found) }
        let out = Array(unreleased.prefix(r.forward.count))
        unreleased.removeFirst(out.count)
        return (out, nil)
    }

    /// The bytes held back at the end of the body.
    mutating func finish() -> [UInt8] {
        _ = scanner.finish()
        defer { unreleased = [] }
        return unreleased
    }
}
