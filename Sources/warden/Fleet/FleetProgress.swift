import WardenKernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A fleet's progress on standard error: on a terminal, one status line redrawn in place
/// (done, failed, running, of how many); otherwise one plain line per finished run, which
/// logs and CI keep readably.
final class FleetProgress: @unchecked Sendable {
    private let fleetID: String
    private let live: Bool
    private let quiet: Bool
    private var lock = pthread_mutex_t()
    private var total = 0
    private var done = 0
    private var failed = 0
    private var running = 0
    private var lineShown = false

    init(fleetID: String, quiet: Bool) {
        self.fleetID = fleetID
        self.quiet = quiet
        live = !quiet && isatty(2) == 1
        pthread_mutex_init(&lock, nil)
    }

    deinit { pthread_mutex_destroy(&lock) }

    func begin(total: Int, done: Int) {
        pthread_mutex_lock(&lock)
        self.total = total
        self.done = done
        pthread_mutex_unlock(&lock)
        if !quiet, !live { emit("fleet \(fleetID): \(total - done) of \(total) repositories to run\n") }
    }

    func tick(running: Int) {
        pthread_mutex_lock(&lock)
        self.running = running
        pthread_mutex_unlock(&lock)
        redraw()
    }

    /// A run ended (`record`); `doneCount` runs of the fleet are done.
    func finished(_ record: FleetRunRecord, doneCount: Int) {
        pthread_mutex_lock(&lock)
        done = doneCount
        if record.phase == .done, !record.succeeded { failed += 1 }
        let line = "fleet \(fleetID): [\(doneCount)/\(total)] \(shown(record.repository)): \(shown(FleetReport.statusText(record)))"
            + (record.durationMilliseconds.map { " in \(FleetReport.seconds($0))" } ?? "")
            + (record.runID.map { " (run \(shown($0)))" } ?? "")
        pthread_mutex_unlock(&lock)
        if quiet { return }
        if live { clearLine() }
        emit(line + "\n")
        redraw()
    }

    /// A message of the fleet's own (stopping, say).
    func note(_ message: String) {
        guard !quiet else { return }
        if live { clearLine() }
        emit("fleet \(fleetID): \(message)\n")
        redraw()
    }

    func end() { if live { clearLine() } }

    private func redraw() {
        guard live else { return }
        pthread_mutex_lock(&lock)
        let text = "fleet \(fleetID): \(done)/\(total) done, \(failed) failed, \(running) running"
        lineShown = true
        pthread_mutex_unlock(&lock)
        emit("\r\u{1B}[K" + text)
    }

    private func clearLine() {
        pthread_mutex_lock(&lock)
        let shownNow = lineShown
        lineShown = false
        pthread_mutex_unlock(&lock)
        if shownNow { emit("\r\u{1B}[K") }
    }

    /// Raw to standard error: the text is Warden's own lines, with every name in them
    /// already escaped (`shown`), and the terminal controls that redraw the status line.
    private func emit(_ text: String) { printError(text, prefix: false, newline: false, escaping: false) }
}
