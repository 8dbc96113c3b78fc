/// A streaming search for any of several tokens across chunk boundaries (placeholders in a
/// request body). It never forwards a byte that could begin a token before it knows: at the
/// end of each feed it holds back the longest tail that is a proper prefix of some token
/// (at most the longest token's length minus one).
public struct PlaceholderScanner: Sendable {
    private let tokens: [[UInt8]]
    private let startsToken: [Bool]
    private let longest: Int
    private var held: [UInt8] = []

    /// Empty tokens are ignored.
    public init(tokens: [[UInt8]]) {
        let kept = tokens.filter { !$0.isEmpty }
        self.tokens = kept
        var starts = [Bool](repeating: false, count: 256)
        for token in kept { starts[Int(token[0])] = true }
        startsToken = starts
        longest = kept.map(\.count).max() ?? 0
    }

    /// Returns the bytes that may be forwarded and the index (in `tokens`) of a token found.
    /// On a match, `forward` ends right before the token; the token is never returned, and
    /// the bytes after it are kept and scanned by the next call.
    public mutating func feed(_ bytes: [UInt8]) -> (forward: [UInt8], found: Int?) {
        let buffer = held.isEmpty ? bytes : held + bytes
        held = []
        if tokens.isEmpty { return (buffer, nil) }
        if let match = Self.firstMatch(tokens: tokens, startsToken: startsToken, in: buffer) {
            held = Array(buffer[(match.offset + tokens[match.token].count)...])
            return (Array(buffer[..<match.offset]), match.token)
        }
        let hold = heldTailLength(buffer)
        held = Array(buffer[(buffer.count - hold)...])
        return (hold == 0 ? buffer : Array(buffer[..<(buffer.count - hold)]), nil)
    }

    /// Returns the bytes held back at the end of the stream (they hold no whole token).
    public mutating func finish() -> [UInt8] {
        defer { held = [] }
        return held
    }

    /// The first occurrence of any of `tokens` in `bytes`: its offset and the token's index.
    public static func firstMatch(of tokens: [[UInt8]], in bytes: [UInt8]) -> (offset: Int, token: Int)? {
        let scanner = PlaceholderScanner(tokens: tokens)
        guard let match = firstMatch(tokens: scanner.tokens, startsToken: scanner.startsToken, in: bytes) else { return nil }
        // Map back to the caller's indices (empty tokens were dropped).
        let token = scanner.tokens[match.token]
        return (match.offset, tokens.firstIndex(of: token) ?? match.token)
    }

    private static func firstMatch(tokens: [[UInt8]], startsToken: [Bool], in buffer: [UInt8]) -> (offset: Int, token: Int)? {
        buffer.withUnsafeBufferPointer { bytes in
            var position = 0
            while position < bytes.count {
                if startsToken[Int(bytes[position])] {
                    for (index, token) in tokens.enumerated() where position + token.count <= bytes.count {
                        var equal = true
                        for offset in 1..<token.count where bytes[position + offset] != token[offset] {
                            equal = false
                            break
                        }
                        if equal { return (position, index) }
                    }
                }
                position += 1
            }
            return nil
        }
    }

    private func heldTailLength(_ buffer: [UInt8]) -> Int {
        var length = min(longest - 1, buffer.count)
        while length > 0 {
            let start = buffer.count - length
            if startsToken[Int(buffer[start])] {
                let tail = buffer[start...]
                if tokens.contains(where: { $0.count > length && $0[..<length].elementsEqual(tail) }) { return length }
            }
            length -= 1
        }
        return 0
    }
}
