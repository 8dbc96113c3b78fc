import NIOCore
import NIOHTTP1
import Synchronization
import WardenAudit
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The audit records `GET /api/events` streams as they are appended (server-sent events):
/// launch decisions, run starts and ends, and denials, from the server's audit log, which
/// every run it starts writes to.
///
/// One thread tails the log (a read every `pollMilliseconds`, from its end at start; a log
/// that shrinks or is replaced is read from its new start) and writes each record, a JSON
/// line, to every subscriber as `data: LINE`. Subscribers are capped; one whose connection
/// cannot take more (a reader that stopped reading) is closed rather than buffered for.
public final class AuditFeed: Sendable {
    /// The record kinds streamed (a kind equal to one, or starting with one ending in `.`).
    static let kinds = ["trigger.", "run.start", "run.exit", "deny.", "http.refused", "http.exfiltration", "interrupted"]
    static let maxSubscribers = 32
    static let maxLineBytes = 64 * 1024
    /// Records kept for a subscriber that connects later (`recent`).
    static let recentCount = 50

    private struct State {
        var offset: Int64 = 0
        var inode: UInt64 = 0
        var partial: [UInt8] = []
        var recent: [[UInt8]] = []
        var subscribers: [ObjectIdentifier: any Channel] = [:]
    }

    let path: String
    let pollMilliseconds: UInt32
    private let state = Mutex(State())
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<ThreadHandle?>(nil)

    public init(path: String, pollMilliseconds: UInt32 = 250) {
        self.path = path
        self.pollMilliseconds = pollMilliseconds
    }

    /// Starts tailing from the log's current end.
    public func start() {
        var st = stat()
        if stat(path, &st) == 0 {
            state.withLock { $0.offset = Int64(st.st_size); $0.inode = UInt64(st.st_ino) }
        }
        let handle = ThreadHandle { [self] in
            while !stopping.load(ordering: .sequentiallyConsistent) {
                poll()
                usleep(pollMilliseconds * 1000)
            }
        }
        thread.withLock { $0 = handle }
    }

    /// Stops tailing and closes every subscriber.
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        thread.withLock { t in defer { t = nil }; return t }?.join()
        for channel in state.withLock({ s in defer { s.subscribers = [:] }; return Array(s.subscribers.values) }) {
            channel.close(promise: nil)
        }
    }

    /// Adds a connection whose response head is written; it gets the recent records at once.
    /// False when the cap is reached (the caller ends the response).
    func subscribe(_ channel: any Channel) -> Bool {
        let recent: [[UInt8]]? = state.withLock { s in
            guard s.subscribers.count < Self.maxSubscribers, !stopping.load(ordering: .sequentiallyConsistent) else { return nil }
            s.subscribers[ObjectIdentifier(channel)] = channel
            return s.recent
        }
        guard let recent else { return false }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: ObjectIdentifier(channel)) }
        }
        send(Self.frame(recent), to: [channel])
        return true
    }

    /// Subscribers now (tests, metrics).
    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Reads what was appended since the last poll and sends the records that are streamed.
    func poll() {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let (start, replaced) = state.withLock { s -> (Int64, Bool) in
            let replaced = UInt64(st.st_ino) != s.inode || Int64(st.st_size) < s.offset
            if replaced { s.offset = 0; s.inode = UInt64(st.st_ino); s.partial = [] }
            return (s.offset, replaced)
        }
        _ = replaced
        guard Int64(st.st_size) > start else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset = start
        var lines: [[UInt8]] = []
        var partial = state.withLock { $0.partial }
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n <= 0 { break }
            offset += Int64(n)
            for byte in buffer[0..<n] {
                if byte == 0x0A {
                    if partial.count <= Self.maxLineBytes, Self.streamed(partial) { lines.append(partial) }
                    partial = []
                } else if partial.count <= Self.maxLineBytes {
                    partial.append(byte)
                }
            }
        }
        let subscribers: [any Channel] = state.withLock { s in
            s.offset = offset
            s.partial = partial
            s.recent = Array((s.recent + lines).suffix(Self.recentCount))
            return Array(s.subscribers.values)
        }
        if !lines.isEmpty { send(Self.frame(lines), to: subscribers) }
    }

    /// Whether the record's kind is one the feed streams (read from its JSON `kind`).
    static func streamed(_ line: [UInt8]) -> Bool {
        guard case .success(let record) = AuditValue.parseJSON(line), let kind = record["kind"]?.stringValue else { return false }
        return kinds.contains { $0.hasSuffix(".") ? kind.hasPrefix($0) : kind == $0 }
    }

    /// `data: LINE` events; a record is one JSON line (no raw line breaks), so it is one event.
    static func frame(_ lines: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines { out += Array("data: ".utf8) + line + [0x0A, 0x0A] }
        return out
    }

    private func send(_ bytes: [UInt8], to channels: [any Channel]) {
        guard !bytes.isEmpty else { return }
        for channel in channels {
            // A reader that stopped reading: close it rather than buffer for it.
            guard channel.isWritable else { channel.close(promise: nil); continue }
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
        }
    }
}
