#if canImport(Glibc)
import Glibc
#endif

/// The modes of a terminal handed to the agent (echo, canonical input, ...), saved before
/// the run and put back after it, so an agent that ran `stty -echo` or crashed in raw mode
/// does not leave the operator's terminal changed.
struct TerminalModes: Sendable {
    let fd: Int32
    let saved: termios

    /// The current modes of `fd`; nil when it is not a terminal.
    static func save(fd: Int32) -> TerminalModes? {
        guard isatty(fd) == 1 else { return nil }
        var t = termios()
        guard tcgetattr(fd, &t) == 0 else { return nil }
        return TerminalModes(fd: fd, saved: t)
    }

    /// Puts the saved modes back. SIGTTOU is ignored meanwhile: Warden may be in a
    /// background process group by then, and must not be stopped for restoring.
    func restore() {
        var ignore = sigaction()
        var old = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&ignore.sa_mask)
        sigaction(SIGTTOU, &ignore, &old)
        var t = saved
        while tcsetattr(fd, TCSANOW, &t) != 0 && errno == EINTR {}
        sigaction(SIGTTOU, &old, nil)
    }
}
