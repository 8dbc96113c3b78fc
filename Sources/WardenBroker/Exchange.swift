import WardenBrokerProtocol

/// One request/response pair in flight on an agent connection: its decision, its body framing
/// state in both directions, and its counters for the event.
final class Exchange {
    let head: RequestHead
    let facts: BrokerRequestFacts
    let rule: String
    let secrets: [String]
    /// The rebuilt request head sent upstream (never the agent's bytes).
    let outboundHead: [UInt8]
    var scanner: PlaceholderScanner?

    /// A receive-pack request whose commands are not decided yet: nothing has gone upstream.
    var pushPending = false
    var pushPrefix: [UInt8] = []

    private var requestBody: RequestBody
    private(set) var requestDone = false
    /// The head went (or is queued to go) upstream.
    var forwarded = false
    /// An event (request or refusal) has been emitted for this exchange.
    var recorded = false
    var bytesUp = 0
    var bytesDown = 0

    enum ResponseState {
        case head
        case length(remaining: Int)
        case chunked(ChunkedDecoder)
        case untilClose
        case done
    }
    var response = ResponseState.head
    var responseStarted = false
    var responseKeepAlive = false
    var status = 0

    private enum RequestBody {
        case none
        case length(remaining: Int)
        case chunked(ChunkedDecoder)
    }

    init(head: RequestHead, facts: BrokerRequestFacts, rule: String, secrets: [String], outboundHead: [UInt8],
         placeholderTokens: [[UInt8]]) {
        self.head = head
        self.facts = facts
        self.rule = rule
        self.secrets = secrets
        self.outboundHead = outboundHead
        scanner = placeholderTokens.isEmpty ? nil : PlaceholderScanner(tokens: placeholderTokens)
        switch head.framing {
        case .length(let n) where n > 0: requestBody = .length(remaining: n)
        case .chunked: requestBody = .chunked(ChunkedDecoder())
        default: requestBody = .none; requestDone = true
        }
    }

    var isChunked: Bool { if case .chunked = head.framing { return true } else { return false } }

    /// Takes request body bytes from the front of `buffer` (leaving what belongs to the next
    /// request) and returns them decoded, with whether anything was consumed.
    func takeBody(from buffer: inout [UInt8]) throws(HTTPRefusal) -> (data: [UInt8], progressed: Bool) {
        switch requestBody {
        case .none:
            return ([], false)
        case .length(let remaining):
            let n = min(remaining, buffer.count)
            let data = Array(buffer[0..<n])
            buffer.removeFirst(n)
            if remaining - n == 0 { requestBody = .none; requestDone = true } else { requestBody = .length(remaining: remaining - n) }
            return (data, n > 0)
        case .chunked(var decoder):
            let r = try decoder.feed(buffer[...])
            buffer.removeFirst(r.consumed)
            if r.finished { requestBody = .none; requestDone = true } else { requestBody = .chunked(decoder) }
            return (r.data, r.consumed > 0)
        }
    }

    /// Frames decoded request body bytes for upstream the way the agent framed them.
    func encode(_ data: [UInt8], last: Bool) -> [UInt8] {
        guard isChunked else { return data }
        var out = data.isEmpty ? [] : ChunkedEncoder.chunk(data)
        if last { out += ChunkedEncoder.end }
        return out
    }

    func startResponseBody(_ framing: BodyFraming) {
        switch framing {
        case .none, .length(0): response = .done
        case .length(let n): response = .length(remaining: n)
        case .chunked: response = .chunked(ChunkedDecoder())
        case .untilClose: response = .untilClose
        }
    }

    private var responseChunked = false
    var responseFinished: Bool { if case .done = response { return true } else { return false } }

    /// Takes response body bytes from `buffer`, decoded, with whether anything was consumed.
    func takeResponseBody(from buffer: inout [UInt8]) throws(HTTPRefusal) -> (data: [UInt8], progressed: Bool) {
        switch response {
        case .head, .done:
            return ([], false)
        case .length(let remaining):
            let n = min(remaining, buffer.count)
            let data = Array(buffer[0..<n])
            buffer.removeFirst(n)
            response = remaining - n == 0 ? .done : .length(remaining: remaining - n)
            return (data, n > 0)
        case .chunked(var decoder):
            responseChunked = true
            let r = try decoder.feed(buffer[...])
            buffer.removeFirst(r.consumed)
            response = r.finished ? .done : .chunked(decoder)
            return (r.data, r.consumed > 0)
        case .untilClose:
            let data = buffer
            buffer = []
            return (data, !data.isEmpty)
        }
    }

    /// Frames decoded response bytes for the agent (chunked bodies are re-chunked piece by piece).
    func encodeResponse(_ data: [UInt8]) -> [UInt8] {
        guard responseChunked else { return data }
        var out = data.isEmpty ? [] : ChunkedEncoder.chunk(data)
        if responseFinished { out += ChunkedEncoder.end }
        return out
    }
}
