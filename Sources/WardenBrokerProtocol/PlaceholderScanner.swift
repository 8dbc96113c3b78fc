/// A streaming search for any of several byte strings across chunk boundaries: placeholders
/// in a request body, or secret values in a response. It never releases a byte that could
/// begin a match before it knows: at the end of each feed it holds back the longest tail
/// that is a proper prefix of some token (at most the longest token's length minus one).
///
/// Aho-Corasick (``TokenAutomaton``): amortised one automaton step per byte whatever the
/// tokens, so time is linear in the bytes fed (no quadratic case for long tokens or for
/// input built to almost match), and memory is linear in the tokens' total length.
public struct PlaceholderScanner: Sendable {
    private let automaton: TokenAutomaton
    private var state: Int32 = 0
    /// Bytes scanned but not released: exactly the last `depth(state)` bytes.
    private var held: [UInt8] = []
    /// Bytes after a match, not scanned yet (scanned first by the next call).
    private var pending: [UInt8] = []

    /// Empty tokens are ignored.
    public init(tokens: [[UInt8]]) {
        automaton = TokenAutomaton(tokens: tokens)
    }

    /// Returns the bytes that may be released and the index (in `tokens`) of a token found.
    /// On a match, `forward` ends before the token and before any byte that could begin
    /// another token; the token is never returned, and the bytes after it are kept and
    /// scanned by the next call.
    public mutating func feed(_ bytes: [UInt8]) -> (forward: [UInt8], found: Int?) {
        let input = pending.isEmpty ? bytes : pending + bytes
        pending = []
        if automaton.isEmpty { return (input, nil) }
        var state = self.state
        var matchEnd: Int?
        var matchToken = -1
        if automaton.hasTable {
            // The fast path: one table lookup per byte, through raw buffers (cheap in debug builds too).
            let classCount = automaton.classCount
            automaton.table.withUnsafeBufferPointer { table in
                automaton.classOf.withUnsafeBufferPointer { classOf in
                    automaton.output.withUnsafeBufferPointer { output in
                        input.withUnsafeBufferPointer { buffer in
                            for index in 0..<buffer.count {
                                state = table[Int(state) &* classCount &+ Int(classOf[Int(buffer[index])])]
                                let token = output[Int(state)]
                                if token >= 0 {
                                    matchEnd = index + 1
                                    matchToken = Int(token)
                                    break
                                }
                            }
                        }
                    }
                }
            }
        } else {
            input.withUnsafeBufferPointer { buffer in
                for index in 0..<buffer.count {
                    state = automaton.step(state, buffer[index])
                    let token = automaton.output[Int(state)]
                    if token >= 0 {
                        matchEnd = index + 1
                        matchToken = Int(token)
                        break
                    }
                }
            }
        }
        let depth = Int(automaton.depth[Int(state)])
        let scannedEnd = matchEnd ?? input.count
        let scanned = held.isEmpty ? Array(input[..<scannedEnd]) : held + input[..<scannedEnd]
        let release = scanned.count - depth
        if let matchEnd {
            // The token and any partial token overlapping it stay unreleased; what follows
            // is scanned afresh by the next call.
            held = []
            self.state = 0
            pending = Array(input[matchEnd...])
            return (Array(scanned[..<release]), matchToken)
        }
        self.state = state
        held = Array(scanned[release...])
        return (release == scanned.count ? scanned : Array(scanned[..<release]), nil)
    }

    /// Ends the stream: returns the bytes still held (and any not yet scanned after a match,
    /// up to the next token, which is dropped with everything after it).
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if !pending.isEmpty {
            let result = feed([])
            out = result.forward
            if result.found != nil {
                pending = []
                held = []
                state = 0
                return out
            }
        }
        out += held
        held = []
        state = 0
        return out
    }

    /// The first occurrence (by end position) of any of `tokens` in `bytes`: its start offset
    /// and the token's index in `tokens`.
    public static func firstMatch(of tokens: [[UInt8]], in bytes: [UInt8]) -> (offset: Int, token: Int)? {
        let automaton = TokenAutomaton(tokens: tokens)
        guard !automaton.isEmpty else { return nil }
        var state: Int32 = 0
        for (index, byte) in bytes.enumerated() {
            state = automaton.step(state, byte)
            let token = automaton.output[Int(state)]
            if token >= 0 { return (index + 1 - tokens[Int(token)].count, Int(token)) }
        }
        return nil
    }
}

/// An Aho-Corasick automaton over bytes. Node 0 is the root; the root's transitions are a
/// dense table, other nodes keep their few children in a list; failure links make a step
/// amortised constant time. When it fits in ``maxTableEntries``, the automaton is also
/// compiled to a complete transition table over byte classes (one class per byte that
/// occurs in a token, one for all others): one lookup per byte.
struct TokenAutomaton: Sendable {
    /// 4 Mi entries (16 MiB): 20 secrets of 100 bytes need about 200 Ki.
    static let maxTableEntries = 1 << 22
    /// The byte class of each byte (0: occurs in no token).
    private(set) var classOf = [UInt16](repeating: 0, count: 256)
    private(set) var classCount = 1
    /// `table[node * classCount + class]`: the next node; empty when too large.
    private(set) var table: [Int32] = []
    var hasTable: Bool { !table.isEmpty }

    /// Children of node n (other than the root): (byte, node) pairs.
    private var children: [[(byte: UInt8, node: Int32)]] = [[]]
    /// The root's transition for each byte (0 = stay at the root).
    private var rootNext = [Int32](repeating: 0, count: 256)
    private var fail: [Int32] = [0]
    /// The length of the prefix node n stands for.
    private(set) var depth: [Int32] = [0]
    /// The index of a token ending at node n (its own, else the longest one along its
    /// failure chain), or -1.
    private(set) var output: [Int32] = [-1]

    var isEmpty: Bool { children.count == 1 }

    /// Empty tokens are ignored; for equal tokens, the first index is reported.
    init(tokens: [[UInt8]]) {
        for (index, token) in tokens.enumerated() where !token.isEmpty {
            var node: Int32 = 0
            for byte in token {
                if let next = child(node, byte) {
                    node = next
                } else {
                    let next = Int32(children.count)
                    children.append([])
                    fail.append(0)
                    depth.append(depth[Int(node)] + 1)
                    output.append(-1)
                    if node == 0 { rootNext[Int(byte)] = next } else { children[Int(node)].append((byte, next)) }
                    node = next
                }
            }
            if output[Int(node)] < 0 { output[Int(node)] = Int32(index) }
        }
        // Breadth-first: failure links and inherited outputs.
        var queue: [Int32] = rootNext.filter { $0 != 0 }
        defer { buildTable(order: queue) }
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for (byte, next) in edges(of: node) {
                var candidate = fail[Int(node)]
                var target: Int32 = 0
                while true {
                    if let found = child(candidate, byte), found != next { target = found; break }
                    if candidate == 0 { break }
                    candidate = fail[Int(candidate)]
                }
                fail[Int(next)] = target
                if output[Int(next)] < 0 { output[Int(next)] = output[Int(target)] }
                queue.append(next)
            }
        }
    }

    /// Fills ``table`` (nodes in breadth-first `order`, so a node's failure target is done first).
    private mutating func buildTable(order: [Int32]) {
        var used = [Bool](repeating: false, count: 256)
        for byte in 0..<256 where rootNext[byte] != 0 { used[byte] = true }
        for list in children { for edge in list { used[Int(edge.byte)] = true } }
        var representative: [UInt8] = [0]
        for byte in 0..<256 where used[byte] {
            classOf[byte] = UInt16(representative.count)
            representative.append(UInt8(byte))
        }
        let classes = representative.count
        guard children.count * classes <= Self.maxTableEntries, children.count > 1 else { return }
        var table = [Int32](repeating: 0, count: children.count * classes)
        for c in 1..<classes { table[c] = rootNext[Int(representative[c])] }
        for node in order {
            let base = Int(node) * classes
            let failBase = Int(fail[Int(node)]) * classes
            for c in 1..<classes { table[base + c] = table[failBase + c] }
            for edge in children[Int(node)] { table[base + Int(classOf[Int(edge.byte)])] = edge.node }
        }
        classCount = classes
        self.table = table
    }

    /// The node after reading `byte` in `node`.
    @inline(__always)
    func step(_ node: Int32, _ byte: UInt8) -> Int32 {
        if hasTable { return table[Int(node) * classCount + Int(classOf[Int(byte)])] }
        var current = node
        while true {
            if current == 0 { return rootNext[Int(byte)] }
            for edge in children[Int(current)] where edge.byte == byte { return edge.node }
            current = fail[Int(current)]
        }
    }

    private func child(_ node: Int32, _ byte: UInt8) -> Int32? {
        if node == 0 {
            let next = rootNext[Int(byte)]
            return next == 0 ? nil : next
        }
        return children[Int(node)].first { $0.byte == byte }?.node
    }

    private func edges(of node: Int32) -> [(byte: UInt8, node: Int32)] {
        if node == 0 { return (0..<256).compactMap { rootNext[$0] == 0 ? nil : (UInt8($0), rootNext[$0]) } }
        return children[Int(node)]
    }
}
