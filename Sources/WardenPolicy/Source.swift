/// A policy source file held in memory, with a line index for turning byte offsets
/// into 1-based line and column numbers.
public struct SourceFile: Sendable, Hashable {
    /// Shared immutable storage: copying a SourceFile is one reference count.
    private final class Storage: Sendable {
        let path: String
        let text: String
        let bytes: [UInt8]
        let lineStarts: [Int]
        /// The column of every byte offset, when the text has non-ASCII bytes (nil:
        /// column = offset - lineStart + 1). Keeps `location(at:)` O(log n).
        let columns: [UInt32]?

        init(path: String, text: String) {
            self.path = path
            self.text = text
            let bytes = Array(text.utf8)
            self.bytes = bytes
            var starts = [0]
            bytes.withUnsafeBufferPointer { buffer in
                for i in 0..<buffer.count where buffer[i] == 0x0A { starts.append(i + 1) }
            }
            self.lineStarts = starts
            var columns: [UInt32]?
            if bytes.contains(where: { $0 >= 0x80 }) {
                // Column = 1 + number of scalar-starting bytes between the line start and the offset.
                var cols = [UInt32](repeating: 1, count: bytes.count + 1)
                for i in 0..<bytes.count {
                    let b = bytes[i]
                    cols[i + 1] = b == 0x0A ? 1 : cols[i] + (b & 0xC0 != 0x80 ? 1 : 0)
                }
                columns = cols
            }
            self.columns = columns
        }
    }

    private let storage: Storage

    /// The path as given or as resolved from an include (used in diagnostics).
    public var path: String { storage.path }
    /// The whole text.
    public var text: String { storage.text }
    /// The text as UTF-8 bytes (what the lexer scans and offsets index).
    public var bytes: [UInt8] { storage.bytes }
    /// Byte offset of the first byte of each line.
    public var lineStarts: [Int] { storage.lineStarts }

    public init(path: String, text: String) {
        storage = Storage(path: path, text: text)
    }

    public static func == (a: SourceFile, b: SourceFile) -> Bool {
        a.storage === b.storage || (a.path == b.path && a.text == b.text)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(text)
    }

    /// The location of byte `offset` (clamped into the file; the end of file is valid).
    public func location(at offset: Int) -> SourceLocation {
        let storage = self.storage
        return storage.bytes.withUnsafeBufferPointer { bytes in
            storage.lineStarts.withUnsafeBufferPointer { lineStarts in
                let offset = max(0, min(offset, bytes.count))
                var lo = 0, hi = lineStarts.count - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
                }
                let column = storage.columns.map { Int($0[offset]) } ?? offset - lineStarts[lo] + 1
                return SourceLocation(offset: offset, line: lo + 1, column: column)
            }
        }
    }

    /// The span covering bytes `start..<end`.
    public func span(_ start: Int, _ end: Int) -> SourceSpan {
        SourceSpan(file: path, start: location(at: start), end: location(at: max(start, end)))
    }

    /// The byte range of 1-based `line` without its line terminator (nil when out of range).
    public func lineRange(_ line: Int) -> Range<Int>? {
        guard line >= 1, line <= lineStarts.count else { return nil }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return start..<max(start, end)
    }

    /// The text of 1-based `line` without its line terminator (empty when out of range),
    /// cut to its first `maxBytes` bytes (whole scalars) when given.
    public func lineText(_ line: Int, maxBytes: Int = .max) -> String {
        guard let range = lineRange(line) else { return "" }
        var end = range.upperBound
        if range.count > maxBytes {
            end = range.lowerBound + maxBytes
            while end > range.lowerBound, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        }
        return String(decoding: bytes[range.lowerBound..<end], as: UTF8.self)
    }
}

/// A point in a source file. `line` and `column` are 1-based; `column` counts Unicode
/// scalars from the start of the line; `offset` is the 0-based UTF-8 byte offset.
public struct SourceLocation: Sendable, Hashable, Comparable, Codable {
    public let offset: Int
    public let line: Int
    public let column: Int

    public init(offset: Int, line: Int, column: Int) {
        self.offset = offset
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool { a.offset < b.offset }
}

/// A half-open range `start..<end` of a source file.
public struct SourceSpan: Sendable, Hashable, Codable, CustomStringConvertible {
    public let file: String
    public let start: SourceLocation
    public let end: SourceLocation

    public init(file: String, start: SourceLocation, end: SourceLocation) {
        self.file = file
        self.start = start
        self.end = end
    }

    /// The smallest span covering both (which must be in the same file).
    public func merged(with other: SourceSpan) -> SourceSpan {
        SourceSpan(file: file, start: min(start, other.start), end: max(end, other.end))
    }

    /// `file:line:column`.
    public var description: String { "\(file):\(start.line):\(start.column)" }
}
