import CLauncher
#if canImport(Glibc)
import Glibc
#endif

/// One seccomp user notification: a syscall the filter handed to the supervisor.
public struct SeccompNotification: Sendable, Equatable {
    public var id: UInt64
    /// The calling thread, as seen in the supervisor's PID namespace.
    public var pid: UInt32
    public var syscall: Int32
    /// AUDIT_ARCH_* of the call.
    public var arch: UInt32
    public var instructionPointer: UInt64
    public var arguments: [UInt64]
}

/// The supervisor's answer to a notification.
public enum NotificationResponse: Sendable, Equatable {
    /// Fail the syscall with this (positive) errno.
    case fail(errno: Int32)
    /// Let the kernel run the syscall as if unfiltered (SECCOMP_USER_NOTIF_FLAG_CONTINUE:
    /// only for decisions that do not depend on pointer arguments, which can change).
    case allow
    /// Do not run it; return this value.
    case returnValue(Int64)
}

/// Decides seccomp user notifications, on the supervisor's notification thread.
public protocol NotificationHandler: Sendable {
    func handle(_ notification: SeccompNotification) -> NotificationResponse
    /// Like `handle(_:)`, with the listener at hand (to check that the notification is still
    /// pending, or to answer later from another thread). Returns nil when the handler has
    /// taken over answering (it must then answer exactly once through `listener`).
    func handle(_ notification: SeccompNotification, listener: NotificationListener) -> NotificationResponse?
}

extension NotificationHandler {
    public func handle(_ notification: SeccompNotification, listener: NotificationListener) -> NotificationResponse? {
        handle(notification)
    }
}

/// The supervisor's seccomp listener, as seen by a handler.
public struct NotificationListener: Sendable {
    /// The listener descriptor; valid while the notification loop runs (see `retained()`).
    public let fd: Int32
    /// The in-sandbox unix-socket helper (`warden_unix_relay`), or -1. Valid only on the
    /// notification thread, during the handler call (not in `retained()` copies).
    public var unixHelper: Int32 = -1

    public init(fd: Int32, unixHelper: Int32 = -1) {
        self.fd = fd
        self.unixHelper = unixHelper
    }

    /// Whether notification `id` is still pending (its caller has not died or been interrupted).
    public func isValid(_ id: UInt64) -> Bool { warden_notif_id_valid(fd, id) == 0 }

    /// Answers notification `id`.
    public func respond(_ id: UInt64, _ response: NotificationResponse) {
        switch response {
        case .fail(let e): _ = warden_notif_send(fd, id, e > 0 ? e : EPERM, 0, 0)
        case .allow: _ = warden_notif_send(fd, id, 0, 0, 1)
        case .returnValue(let v): _ = warden_notif_send(fd, id, 0, v, 0)
        }
    }

    /// A duplicate that stays valid after the loop ends, for answering from another thread;
    /// nil if it cannot be made. The caller closes it with `close()`.
    public func retained() -> NotificationListener? {
        let d = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        return d >= 0 ? NotificationListener(fd: d) : nil
    }

    public func close() { _ = Glibc.close(fd) }
}

/// A `NotificationHandler` from a closure.
public struct ClosureNotificationHandler: NotificationHandler {
    let body: @Sendable (SeccompNotification) -> NotificationResponse
    public init(_ body: @escaping @Sendable (SeccompNotification) -> NotificationResponse) { self.body = body }
    public func handle(_ notification: SeccompNotification) -> NotificationResponse { body(notification) }
}

/// Receives and answers notifications on `listener` until every filtered task is gone or
/// `stopFd` becomes readable. Runs on its own thread.
func runNotificationLoop(listener: Int32, stopFd: Int32, handler: any NotificationHandler, unixHelper: Int32 = -1) {
    var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
               pollfd(fd: stopFd, events: Int16(POLLIN), revents: 0)]
    while true {
        fds[0].revents = 0; fds[1].revents = 0
        let r = poll(&fds, 2, -1)
        if r < 0 { if errno == EINTR { continue }; return }
        if fds[1].revents != 0 { return }
        if fds[0].revents & Int16(POLLIN) != 0 {
            var n = warden_notification()
            let rc = warden_notif_recv(listener, &n)
            if rc == -ENOENT || rc == -EINTR { continue } // the caller died or was interrupted
            if rc < 0 { return }
            let args = withUnsafeBytes(of: n.args) { Array($0.bindMemory(to: UInt64.self)) }
            let note = SeccompNotification(id: n.id, pid: n.pid, syscall: n.nr, arch: n.arch,
                                           instructionPointer: n.instruction_pointer, arguments: args)
            let l = NotificationListener(fd: listener, unixHelper: unixHelper)
            if let response = handler.handle(note, listener: l) { l.respond(n.id, response) }
            continue
        }
        if fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return }
    }
}
