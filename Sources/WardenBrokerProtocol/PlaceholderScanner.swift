/// A streaming search for any of several tokens across chunk boundaries.
public struct PlaceholderScanner: Sendable {
    public init(tokens: [[UInt8]]) {}

    /// Returns the bytes that can be forwarded and the index of a token found, if any.
    public mutating func feed(_ bytes: [UInt8]) -> (forward: [UInt8], found: Int?) {
        (bytes, nil)
    }

    /// Returns the bytes held back at the end of the stream.
    public mutating func finish() -> [UInt8] { [] }
}
