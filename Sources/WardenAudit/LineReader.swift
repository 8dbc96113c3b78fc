#if canImport(Glibc)
import Glibc
#endif

/// Streams a file line by line through one reusable buffer (lines split on `\n`).
///
/// Memory is bounded: a line longer than `maxLine` is handed over as its first `maxLine`
/// bytes (as if it ended there; no record is that long) and the rest of it is skipped.
struct LineReader {
    private let fd: Int32
    private let path: String
    private var buf: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var eof = false
    /// File offset of the next line.
    private(set) var offset: Int64 = 0
    /// Bytes left to read before the reader stops (nil: until end of file).
    private var remaining: Int64?
    private let maxLine: Int
    /// Inside an overlong line whose first part was already handed over.
    private var skipping = false

    init(fd: Int32, path: String, limit: Int64? = nil, chunk: Int = 4 << 20, maxLine: Int = 2 * LogTail.maxRecordBytes) {
        self.fd = fd
        self.path = path
        self.remaining = limit
        self.maxLine = max(maxLine, 1)
        self.buf = .allocate(byteCount: min(chunk, self.maxLine + 1), alignment: 16)
    }

    func deallocate() { buf.deallocate() }

    /// Calls `body` with the next line (without its newline), its file offset and whether a
    /// newline ended it. Returns false at end of file. The line is valid only inside `body`.
    mutating func next(_ body: (UnsafeRawBufferPointer, Int64, Bool) throws(AuditError) -> Void) throws(AuditError)
        -> Bool
    {
        var scanFrom = start
        while true {
            let window = UnsafeRawBufferPointer(rebasing: buf[scanFrom..<end])
            if let p = window.withMemoryRebound(to: UInt8.self, { w -> Int? in
                guard let base = w.baseAddress, !w.isEmpty,
                    let hit = memchr(base, 0x0A, w.count)
                else { return nil }
                return scanFrom + (UnsafeRawPointer(hit) - UnsafeRawPointer(base))
            }) {
                if skipping {
                    // The end of an overlong line: drop it.
                    offset += Int64(p - start + 1)
                    start = p + 1
                    scanFrom = start
                    skipping = false
                    continue
                }
                let line = UnsafeRawBufferPointer(rebasing: buf[start..<p])
                let off = offset
                offset += Int64(p - start + 1)
                start = p + 1
                try body(line, off, true)
                return true
            }
            if skipping {
                offset += Int64(end - start)
                start = end
                scanFrom = end
                if eof { return false }
                try fill(&scanFrom)
                continue
            }
            if end - start >= maxLine {
                let line = UnsafeRawBufferPointer(rebasing: buf[start..<(start + maxLine)])
                let off = offset
                offset += Int64(end - start)
                try body(line, off, true)
                start = end
                skipping = true
                return true
            }
            if eof {
                guard start < end else { return false }
                let line = UnsafeRawBufferPointer(rebasing: buf[start..<end])
                let off = offset
                offset += Int64(end - start)
                start = end
                try body(line, off, false)
                return true
            }
            scanFrom = end
            try fill(&scanFrom)
        }
    }

    /// Moves pending bytes to the front (growing the buffer for long lines) and reads more.
    private mutating func fill(_ scanFrom: inout Int) throws(AuditError) {
        if start > 0 {
            let n = end - start
            if n > 0 { buf.baseAddress!.copyMemory(from: buf.baseAddress! + start, byteCount: n) }
            scanFrom -= start
            end = n
            start = 0
        }
        if end == buf.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buf.count * 2, alignment: 16)
            bigger.baseAddress!.copyMemory(from: buf.baseAddress!, byteCount: end)
            buf.deallocate()
            buf = bigger
        }
        while true {
            let want = remaining.map { Int(min(Int64(buf.count - end), $0)) } ?? (buf.count - end)
            if want == 0 {
                eof = true
                return
            }
            let n = Glibc.read(fd, buf.baseAddress! + end, want)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", message: FileIO.errnoText(errno))
            }
            if n == 0 { eof = true }
            end += n
            if let r = remaining { remaining = r - Int64(n) }
            return
        }
    }
}
