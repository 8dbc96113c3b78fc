#if canImport(Glibc)
import Glibc
#endif

/// The closure a new thread runs, passed through pthread_create's argument.
private final class ThreadBody: @unchecked Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Starts `body` on a new joinable POSIX thread; nil when it could not be created.
private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var t = pthread_t()
    let r = pthread_create(&t, nil, { raw in
        guard let raw else { return nil }
        Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().body()
        return nil
    }, box)
    guard r == 0 else { Unmanaged<ThreadBody>.fromOpaque(box).release(); return nil }
    return t
}

/// A joinable POSIX thread running a Sendable closure (no Foundation needed).
struct JoinableThread: ~Copyable {
    private var handle: pthread_t

    /// Starts `body` on a new thread; nil when the thread could not be created.
    init?(_ body: @escaping @Sendable () -> Void) {
        guard let t = startThread(body) else { return nil }
        handle = t
    }

    consuming func join() { pthread_join(handle, nil) }
}

/// A joinable thread that can be stored in a Sendable class.
public final class ThreadHandle: @unchecked Sendable {
    private let handle: pthread_t
    private var joined = false

    public init?(_ body: @escaping @Sendable () -> Void) {
        guard let t = startThread(body) else { return nil }
        handle = t
    }

    /// Joins once (call from one thread).
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }
}

/// A value written once by one thread and read after `join`.
final class ResultSlot<T: Sendable>: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var value: T?
    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }
    func set(_ v: T) { pthread_mutex_lock(&lock); value = v; pthread_mutex_unlock(&lock) }
    func get() -> T? { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return value }
}

/// Monotonic clock in nanoseconds.
public func monotonicNow() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, attos) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s < 0 ? Int64.min : Int64.max }
        let (sum, o2) = ns.addingReportingOverflow(attos / 1_000_000_000)
        return o2 ? Int64.max : sum
    }
}
