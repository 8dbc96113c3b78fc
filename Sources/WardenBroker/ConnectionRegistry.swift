import NIOCore
import Synchronization

/// The supervisor's `expect` mappings (agent-side address → real destination) and the
/// accepted connections waiting for theirs; also counts open connections against the limit.
final class ConnectionRegistry: Sendable {
    struct Key: Hashable, Sendable {
        var ip: String
        var port: UInt16
    }

    private struct State {
        var expected: [Key: (destination: BrokeredDestination, at: NIODeadline)] = [:]
        var waiting: [Key: EventLoopPromise<BrokeredDestination>] = [:]
        var open = 0
    }

    /// Mappings nobody claimed within this time are dropped (the connect they announce failed).
    private static let unclaimedLifetime = TimeAmount.seconds(60)
    private let state = Mutex(State())
    private let maxConnections: Int

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    /// The normal form of an address text, so `expect` and the accepted peer agree.
    static func key(ip: String, port: UInt16) -> Key {
        let normal = (try? SocketAddress(ipAddress: ip, port: Int(port)))?.ipAddress ?? ip
        return Key(ip: normal, port: port)
    }

    func expect(_ key: Key, _ destination: BrokeredDestination) {
        let now = NIODeadline.now()
        let waiter: EventLoopPromise<BrokeredDestination>? = state.withLock { s in
            if let w = s.waiting.removeValue(forKey: key) { return w }
            s.expected = s.expected.filter { now - $0.value.at < Self.unclaimedLifetime }
            s.expected[key] = (destination, now)
            return nil
        }
        waiter?.succeed(destination)
    }

    /// The mapping for an accepted connection, waiting at most `wait` for it.
    func claim(_ key: Key, on loop: EventLoop, wait: TimeAmount) -> EventLoopFuture<BrokeredDestination> {
        let promise = loop.makePromise(of: BrokeredDestination.self)
        let found: BrokeredDestination? = state.withLock { s in
            if let e = s.expected.removeValue(forKey: key) { return e.destination }
            if let old = s.waiting.updateValue(promise, forKey: key) {
                // A second connection from the same address: only the newest may be mapped.
                old.fail(MappingError.superseded)
            }
            return nil
        }
        if let found {
            promise.succeed(found)
            return promise.futureResult
        }
        loop.scheduleTask(in: wait) { [self] in
            let mine = state.withLock { s -> Bool in
                guard let w = s.waiting[key], w.futureResult === promise.futureResult else { return false }
                s.waiting[key] = nil
                return true
            }
            if mine { promise.fail(MappingError.timedOut) }
        }
        return promise.futureResult
    }

    /// Counts a new connection; false when the limit is reached (the caller closes it).
    func admit() -> Bool {
        state.withLock { s in
            guard s.open < maxConnections else { return false }
            s.open += 1
            return true
        }
    }

    func release() { state.withLock { $0.open -= 1 } }

    var openConnections: Int { state.withLock { $0.open } }

    enum MappingError: Error { case timedOut, superseded }
}
