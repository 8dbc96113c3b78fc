import NIOCore
import NIOPosix
import NIOSSL
import WardenBrokerProtocol

/// One agent connection, after TLS termination: reads request heads, decides each request,
/// forwards a rebuilt request upstream and streams both bodies with backpressure (the agent
/// is read only while upstream can take more, upstream only while the agent can).
/// Everything here runs on the connection's event loop; the upstream channel uses the same loop.
final class ProxyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let core: BrokerCore
    let destination: BrokeredDestination
    private let serverName: ServerNameBox
    private var context: ChannelHandlerContext?
    /// Agent bytes received and not yet consumed (a head being accumulated, or body bytes).
    private var inbound: [UInt8] = []
    private var exchange: Exchange?
    private var closing = false
    private var timer: Scheduled<Void>?
    private var headStarted = false
    private lazy var headScanner = HeadEndScanner(limit: core.limits.maxHeadBytes)
    private lazy var responseScanner = HeadEndScanner(limit: core.limits.maxHeadBytes)

    private var upstream: Channel?
    private var upstreamConnected = false
    /// Incremented per upstream connection; events of older connections are ignored.
    private var generation = 0
    /// Bytes for upstream written before its connection completed.
    private var pendingUp: [UInt8] = []
    private var responseBuffer: [UInt8] = []

    /// Upper bound of request bytes buffered while upstream connects or a push is decided.
    private static let maxPendingUp = 1 << 20

    init(core: BrokerCore, destination: BrokeredDestination, serverName: ServerNameBox) {
        self.core = core
        self.destination = destination
        self.serverName = serverName
    }

    // MARK: agent side

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armIdleTimer()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        inbound.append(contentsOf: buffer.readableBytesView)
        process()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        readAgentIfWanted()
    }

    func channelInactive(context: ChannelHandlerContext) {
        recordUnfinished()
        closing = true
        timer?.cancel()
        upstream?.close(promise: nil)
        upstream = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { upstream?.read() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // TLS failures (refused SNI, bad client) and resets: nothing more to say to this peer.
        abort()
    }

    /// Consumes `inbound` as far as the current state allows.
    private func process() {
        while !closing {
            if let ex = exchange {
                if ex.requestDone { return }
                guard !inbound.isEmpty, pumpRequestBody(ex) else { return }
            } else {
                guard !inbound.isEmpty else { return }
                if !headStarted {
                    headStarted = true
                    armHeadTimer()
                }
                let scan = headScanner.scan(inbound)
                switch scan {
                case .needMore:
                    return
                case .tooLarge:
                    refuse(status: 431, text: "request head larger than \(core.limits.maxHeadBytes) bytes", facts: nil)
                    return
                case .complete(let length):
                    let head = Array(inbound[0..<length])
                    inbound.removeFirst(length)
                    headScanner.reset()
                    headStarted = false
                    timer?.cancel()
                    startRequest(head)
                }
            }
        }
    }

    /// Asks the agent for more bytes when the current state can use them.
    private func readAgentIfWanted() {
        guard let context, !closing else { return }
        if let ex = exchange {
            guard !ex.requestDone else { return }
            if ex.pushPending {
                guard ex.pushPrefix.count < core.limits.maxPushCommandBytes else { return }
            } else if upstreamConnected {
                guard upstream?.isWritable ?? false else { return }
            } else if pendingUp.count >= Self.maxPendingUp {
                return
            }
        } else if inbound.count > core.limits.maxHeadBytes {
            return
        }
        context.read()
    }

    // MARK: a request

    private func startRequest(_ raw: [UInt8]) {
        let head: RequestHead
        do { head = try RequestHead.parse(raw) } catch {
            refuse(status: error.status, text: error.reason, facts: nil)
            return
        }
        let (facts, problem) = checkTarget(head)
        guard let facts else {
            refuse(status: 403, text: problem ?? "request target refused", facts: nil, host: destination.names.first)
            return
        }
        do { try PathSafety.check(head.path) } catch {
            refuse(status: error.status, text: error.reason, facts: facts)
            return
        }
        // Placeholders must never travel in the request target.
        let target = head.path + (head.query.map { "?" + $0 } ?? "")
        let decodedTarget = String(decoding: PercentDecoding.decodedRepeatedly(target), as: UTF8.self)
        for p in core.configuration.placeholders where target.containsBytes(p.token) || decodedTarget.containsBytes(p.token) {
            core.emit(.exfiltration(secret: p.secretName, host: facts.host, where: "url"))
            refuse(status: 403, text: "a secret placeholder in the request target", facts: facts, secrets: [p.secretName])
            return
        }
        let verdict = core.configuration.decide(facts)
        guard case .allow(let rule, let injections) = verdict else {
            if case .refuse(let rule, let reason) = verdict {
                refuse(status: 403, text: reason, facts: facts, rule: rule)
            }
            return
        }
        // Placeholders in header values: replaced for the hosts their secret is bound to.
        var outHead = head
        var secrets = injections.map(\.secretName)
        for i in outHead.headers.indices {
            // Percent-encoded placeholders cannot be replaced; to a host the secret is not
            // bound to they are an exfiltration attempt like plain ones.
            let decoded = String(decoding: PercentDecoding.decodedRepeatedly(outHead.headers[i].value), as: UTF8.self)
            for p in core.configuration.placeholders where !p.hosts(facts.host, facts.port)
                && !outHead.headers[i].value.containsBytes(p.token) && decoded.containsBytes(p.token) {
                core.emit(.exfiltration(secret: p.secretName, host: facts.host,
                                        where: "header \(outHead.headers[i].name) to host \(facts.host)"))
                refuse(status: 403, text: "secret placeholder for \(p.secretName) is not allowed to \(facts.host)",
                       facts: facts, rule: rule, secrets: [p.secretName])
                return
            }
            for p in core.configuration.placeholders where outHead.headers[i].value.containsBytes(p.token) {
                guard p.hosts(facts.host, facts.port) else {
                    core.emit(.exfiltration(secret: p.secretName, host: facts.host,
                                            where: "header \(outHead.headers[i].name) to host \(facts.host)"))
                    refuse(status: 403, text: "secret placeholder for \(p.secretName) is not allowed to \(facts.host)",
                           facts: facts, rule: rule, secrets: [p.secretName])
                    return
                }
                outHead.headers[i].value = outHead.headers[i].value
                    .replacingAll(p.token, with: String(decoding: p.value, as: UTF8.self))
                if !secrets.contains(p.secretName) { secrets.append(p.secretName) }
            }
        }
        let isPush = head.method == "POST" && GitSmartHTTP.isReceivePack(path: head.decodedPath)
        if isPush, head.headers.contains(where: { $0.name.lowercased() == "content-encoding" && $0.value.lowercased() != "identity" }) {
            refuse(status: 403, text: "a compressed git receive-pack body cannot be inspected", facts: facts, rule: rule)
            return
        }
        var setting = injections.map { (name: $0.headerName, value: String(decoding: $0.value, as: UTF8.self)) }
        var removing = Set(injections.map { $0.headerName.lowercased() })
        if isPush && head.expectsContinue {
            // The push is decided on its body: let the agent send it now.
            removing.insert("expect")
            writeAgent(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), flush: true)
        }
        setting.sort { $0.name < $1.name }
        let ex = Exchange(head: head, facts: facts, rule: rule, secrets: secrets,
                          outboundHead: outHead.serialized(setting: setting, removing: removing),
                          placeholderTokens: core.configuration.placeholders.map { Array($0.token.utf8) })
        ex.pushPending = isPush
        exchange = ex
        if !isPush { sendHeadUpstream(ex) }
        if ex.requestDone { _ = pumpRequestBody(ex) }
    }

    /// Host (and SNI) agreement: the facts of the request, or why it is refused.
    private func checkTarget(_ head: RequestHead) -> (BrokerRequestFacts?, String?) {
        let hostHeader = BrokerCore.normalizeName(head.host)
        let defaultPort: UInt16 = destination.scheme == .https ? 443 : 80
        let host: String
        if destination.scheme == .https {
            guard let sni = serverName.name else { return (nil, "no TLS server name") }
            guard hostHeader == sni else { return (nil, "Host \(hostHeader) differs from the TLS server name \(sni)") }
            host = sni
        } else {
            guard destination.names.contains(hostHeader) else {
                return (nil, "Host \(hostHeader) is not a name resolved to \(destination.ip) in this run")
            }
            host = hostHeader
        }
        if (head.hostPort ?? defaultPort) != destination.port {
            return (nil, "Host port \(head.hostPort ?? defaultPort) differs from the connected port \(destination.port)")
        }
        if let a = head.absoluteAuthority {
            let aScheme = a.scheme.lowercased()
            let aDefault: UInt16 = aScheme == "https" ? 443 : 80
            guard aScheme == destination.scheme.rawValue, BrokerCore.normalizeName(a.host) == host,
                  (a.port ?? aDefault) == destination.port else {
                return (nil, "absolute request target \(a.scheme)://\(a.host) differs from the connection's \(host)")
            }
        }
        return (BrokerRequestFacts(scheme: destination.scheme, method: head.method, host: host,
                                   port: destination.port, path: head.decodedPath, query: head.query), nil)
    }

    /// Moves request body bytes from `inbound` towards upstream. False when it must stop
    /// (nothing more can be consumed now, or the connection is being refused).
    private func pumpRequestBody(_ ex: Exchange) -> Bool {
        var decoded: [UInt8] = []
        var progressed = false
        do {
            (decoded, progressed) = try ex.takeBody(from: &inbound)
        } catch {
            refuse(status: error.status, text: error.reason, facts: ex.facts, rule: ex.rule)
            return false
        }
        var forward: [UInt8]
        if var scanner = ex.scanner {
            let r = scanner.feed(decoded)
            forward = r.forward
            if let found = r.found {
                let p = core.configuration.placeholders[found]
                ex.scanner = scanner
                ex.recorded = true
                core.emit(.exfiltration(secret: p.secretName, host: ex.facts.host, where: "body"))
                core.emit(.refused(host: ex.facts.host, port: ex.facts.port, method: ex.facts.method, path: ex.facts.path,
                                   reason: "a secret placeholder in the request body", rule: ex.rule, secrets: [p.secretName]))
                abort()
                return false
            }
            if ex.requestDone { forward += scanner.finish() }
            ex.scanner = scanner
        } else {
            forward = decoded
        }
        ex.bytesUp += forward.count
        if ex.pushPending {
            ex.pushPrefix += forward
            switch parseReceivePackCommands(ex.pushPrefix, limit: core.limits.maxPushCommandBytes, bodyComplete: ex.requestDone) {
            case .needMore:
                if ex.requestDone || ex.pushPrefix.count >= core.limits.maxPushCommandBytes {
                    refuse(status: 403, text: "git receive-pack commands incomplete", facts: ex.facts, rule: ex.rule)
                    return false
                }
                return progressed
            case .invalid(let why):
                refuse(status: 400, text: "git receive-pack commands invalid: \(why)", facts: ex.facts, rule: ex.rule)
                return false
            case .commands(let updates, _):
                if let deletion = updates.first(where: { $0.isDeletion }) {
                    refuse(status: 403, text: "deleting \(deletion.ref) is never allowed", facts: ex.facts, rule: nil)
                    return false
                }
                guard let repo = GitSmartHTTP.repositoryPath(ofReceivePack: ex.head.decodedPath) else {
                    refuse(status: 403, text: "git receive-pack without a repository path", facts: ex.facts, rule: ex.rule)
                    return false
                }
                let push = PushFacts(host: ex.facts.host, port: ex.facts.port, repoPath: repo, updates: updates)
                if case .refuse(let rule, let reason) = core.configuration.decidePush(push) {
                    refuse(status: 403, text: reason, facts: ex.facts, rule: rule)
                    return false
                }
                ex.pushPending = false
                let prefix = ex.pushPrefix
                ex.pushPrefix = []
                sendHeadUpstream(ex)
                writeUpstream(ex.encode(prefix, last: ex.requestDone))
                return progressed
            }
        }
        writeUpstream(ex.encode(forward, last: ex.requestDone))
        return progressed
    }

    // MARK: upstream

    private func sendHeadUpstream(_ ex: Exchange) {
        ex.forwarded = true
        if upstream == nil { connectUpstream(ex.facts.host) }
        writeUpstream(ex.outboundHead)
    }

    private func writeUpstream(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if upstreamConnected, let up = upstream {
            up.writeAndFlush(up.allocator.buffer(bytes: bytes), promise: nil)
        } else {
            pendingUp += bytes
        }
    }

    private func connectUpstream(_ host: String) {
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let core = self.core
        let tls = destination.scheme == .https
        upstreamConnected = false
        responseBuffer = []
        responseScanner.reset()
        generation += 1
        let generation = self.generation
        let future = ClientBootstrap(group: context.eventLoop)
            .connectTimeout(core.limits.upstreamConnectTimeout)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    if tls { try ops.addHandler(NIOSSLClientHandler(context: core.upstreamTLS, serverHostname: host)) }
                    try ops.addHandler(UpstreamHandler(proxy: bound.value, generation: generation))
                }
            }
            .connect(host: destination.ip, port: Int(destination.port))
        future.whenComplete { result in
            let me = bound.value
            switch result {
            case .success(let channel):
                guard !me.closing, me.generation == generation else { channel.close(promise: nil); return }
                me.upstream = channel
                me.upstreamConnected = true
                if !me.pendingUp.isEmpty {
                    channel.writeAndFlush(channel.allocator.buffer(bytes: me.pendingUp), promise: nil)
                    me.pendingUp = []
                }
                channel.read()
                me.readAgentIfWanted()
            case .failure(let error):
                me.upstreamFailed(error, generation: generation)
            }
        }
    }

    func upstreamRead(_ buffer: ByteBuffer, generation: Int) {
        guard generation == self.generation, let ex = exchange, !closing else { return }
        responseBuffer.append(contentsOf: buffer.readableBytesView)
        pumpResponse(ex)
    }

    func upstreamReadComplete(generation: Int) {
        guard generation == self.generation else { return }
        context?.flush()
        if context?.channel.isWritable ?? false { upstream?.read() }
    }

    func upstreamWritabilityChanged(generation: Int) {
        guard generation == self.generation else { return }
        readAgentIfWanted()
    }

    func upstreamInactive(generation: Int) {
        guard generation == self.generation else { return }
        upstream = nil
        upstreamConnected = false
        guard let ex = exchange, !closing else { return }
        if case .untilClose = ex.response {
            ex.response = .done
            finishExchange(ex, keepAlive: false)
        } else if !ex.responseStarted {
            // A TLS failure may be reported just after the close: let it speak first.
            guard let loop = context?.eventLoop else { return }
            let bound = NIOLoopBound((self, ex), eventLoop: loop)
            loop.execute {
                let (me, ex) = bound.value
                guard !me.closing, me.exchange === ex else { return }
                me.badGateway(ex, "warden: upstream \(ex.facts.host) closed the connection without answering")
            }
        } else {
            abort()
        }
    }

    func upstreamFailed(_ error: Error, generation: Int) {
        guard generation == self.generation else { return }
        let stale = upstream
        stale?.close(promise: nil)
        upstream = nil
        upstreamConnected = false
        guard let ex = exchange, !closing else { return }
        guard !ex.responseStarted else { abort(); return }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("failedToValidateHostname") || text.contains("certificate") {
            badGateway(ex, "warden: upstream certificate for \(ex.facts.host) not trusted: \(text)")
        } else {
            badGateway(ex, "warden: cannot reach upstream \(ex.facts.host) (\(destination.ip):\(destination.port)): \(text)")
        }
    }

    private func badGateway(_ ex: Exchange, _ text: String) {
        ex.recorded = true
        core.emit(.refused(host: ex.facts.host, port: ex.facts.port, method: ex.facts.method, path: ex.facts.path,
                           reason: text, rule: ex.rule, secrets: ex.secrets))
        answerAndClose(status: 502, text: text)
    }

    /// Parses and forwards the response as far as `responseBuffer` allows.
    private func pumpResponse(_ ex: Exchange) {
        while !closing {
            switch ex.response {
            case .head:
                let scan = responseScanner.scan(responseBuffer)
                switch scan {
                case .needMore: return
                case .tooLarge:
                    badGateway(ex, "warden: upstream \(ex.facts.host) sent a response head larger than \(core.limits.maxHeadBytes) bytes")
                    return
                case .complete(let length):
                    let raw = Array(responseBuffer[0..<length])
                    responseBuffer.removeFirst(length)
                    responseScanner.reset()
                    let head: ResponseHead
                    do { head = try ResponseHead.parse(raw, requestMethod: ex.facts.method) } catch {
                        badGateway(ex, "warden: upstream \(ex.facts.host) sent an invalid response: \(error.reason)")
                        return
                    }
                    if head.status == 101 {
                        badGateway(ex, "warden: upstream \(ex.facts.host) switched protocols, which the broker does not forward")
                        return
                    }
                    ex.responseStarted = true
                    writeAgent(head.serialized(), flush: false)
                    if head.isInterim { continue }
                    ex.status = head.status
                    ex.responseKeepAlive = head.keepAlive
                    ex.startResponseBody(head.framing)
                    if ex.responseFinished { responseEnded(ex); return }
                }
            case .length, .chunked, .untilClose:
                guard !responseBuffer.isEmpty else { return }
                let out: [UInt8]
                let progressed: Bool
                do { (out, progressed) = try ex.takeResponseBody(from: &responseBuffer) } catch {
                    abort()
                    return
                }
                ex.bytesDown += out.count
                if !out.isEmpty || ex.responseFinished { writeAgent(ex.encodeResponse(out), flush: false) }
                if ex.responseFinished { responseEnded(ex); return }
                if !progressed { return }
            case .done:
                return
            }
        }
    }

    private func responseEnded(_ ex: Exchange) {
        context?.flush()
        finishExchange(ex, keepAlive: ex.responseKeepAlive)
    }

    private func finishExchange(_ ex: Exchange, keepAlive: Bool) {
        ex.recorded = true
        core.emit(.request(host: ex.facts.host, port: ex.facts.port, method: ex.facts.method, path: ex.facts.path,
                           status: ex.status, bytesUp: ex.bytesUp, bytesDown: ex.bytesDown, secrets: ex.secrets, rule: ex.rule))
        let reusable = keepAlive && ex.head.keepAlive && ex.requestDone
        if !keepAlive || !responseBuffer.isEmpty {
            upstream?.close(promise: nil)
            upstream = nil
            upstreamConnected = false
        }
        responseBuffer = []
        responseScanner.reset()
        exchange = nil
        guard reusable else {
            closeAfterFlush()
            return
        }
        armIdleTimer()
        process()
        readAgentIfWanted()
    }

    // MARK: answers and teardown

    private func writeAgent(_ bytes: [UInt8], flush: Bool) {
        guard let context, !bytes.isEmpty else { return }
        let buffer = context.channel.allocator.buffer(bytes: bytes)
        if flush { context.writeAndFlush(wrapOutboundOut(buffer), promise: nil) } else { context.write(wrapOutboundOut(buffer), promise: nil) }
    }

    private func refuse(status: Int, text: String, facts: BrokerRequestFacts?, rule: String? = nil,
                        secrets: [String] = [], host: String? = nil) {
        exchange?.recorded = true
        core.emit(.refused(host: facts?.host ?? host, port: facts?.port ?? destination.port, method: facts?.method,
                           path: facts?.path, reason: text, rule: rule, secrets: secrets))
        answerAndClose(status: status, text: "warden: refused by \(rule.map { "\($0): " } ?? "")\(text)")
    }

    /// Answers with a short text response, then closes both sides.
    private func answerAndClose(status: Int, text: String) {
        guard !closing else { return }
        // Mid-response an answer of our own would corrupt the stream: cut it instead.
        if exchange?.responseStarted == true { abort(); return }
        let body = Array((text + "\n").utf8)
        var head = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        head += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        writeAgent(Array(head.utf8) + body, flush: true)
        closeAfterFlush()
    }

    private func closeAfterFlush() {
        guard let context, !closing else { return }
        closing = true
        timer?.cancel()
        upstream?.close(promise: nil)
        upstream = nil
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }

    /// A request that went upstream but whose exchange was cut short (either side closed or
    /// broke mid-stream) is still recorded, with the status seen (0: none) and the bytes so far.
    private func recordUnfinished() {
        guard let ex = exchange, ex.forwarded, !ex.recorded else { return }
        ex.recorded = true
        core.emit(.request(host: ex.facts.host, port: ex.facts.port, method: ex.facts.method, path: ex.facts.path,
                           status: ex.status, bytesUp: ex.bytesUp, bytesDown: ex.bytesDown, secrets: ex.secrets, rule: ex.rule))
    }

    /// Closes both sides at once (hostile or broken input mid-stream).
    private func abort() {
        recordUnfinished()
        guard !closing else { return }
        closing = true
        timer?.cancel()
        upstream?.close(promise: nil)
        upstream = nil
        context?.close(promise: nil)
    }

    private func armIdleTimer() {
        timer?.cancel()
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: core.limits.idleTimeout) { bound.value.timedOut(idle: true) }
    }

    private func armHeadTimer() {
        timer?.cancel()
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: core.limits.headTimeout) { bound.value.timedOut(idle: false) }
    }

    private func timedOut(idle: Bool) {
        guard exchange == nil, !closing else { return }
        if idle && inbound.isEmpty {
            abort()
        } else {
            core.emit(.refused(host: serverName.name, port: destination.port, method: nil, path: nil,
                               reason: "request head not received within \(core.limits.headTimeout.nanoseconds / 1_000_000_000) s",
                               rule: nil, secrets: []))
            answerAndClose(status: 408, text: "warden: request head not received in time")
        }
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 431: return "Request Header Fields Too Large"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 505: return "HTTP Version Not Supported"
        default: return "Error"
        }
    }
}

extension String {
    /// Every occurrence of `target` replaced (byte-wise match on UTF-8).
    func replacingAll(_ target: String, with replacement: String) -> String {
        let t = Array(target.utf8), bytes = Array(utf8), r = Array(replacement.utf8)
        guard !t.isEmpty, bytes.count >= t.count else { return self }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if i + t.count <= bytes.count, bytes[i..<(i + t.count)].elementsEqual(t) {
                out += r
                i += t.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the UTF-8 bytes of `token` occur in this string.
    func containsBytes(_ token: String) -> Bool { replacingAll(token, with: "") != self }
}
