import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where a launch's time goes (`warden run --timings`): wall-clock and CPU time (user plus
/// system, this process only; the launcher and the agent are children) at named marks, from
/// `begin()` on. Off unless begun; a mark costs a clock read and a `getrusage`.
public final class LaunchTimings: Sendable {
    /// The one launch of this process.
    public static let shared = LaunchTimings()

    struct Mark {
        var stage: String
        var wall: ContinuousClock.Instant
        var cpu: Duration
    }

    private let state = Mutex<[Mark]?>(nil)

    /// Starts timing (the first mark, `stage`).
    public func begin(_ stage: String) {
        let m = Mark(stage: stage, wall: .now, cpu: Self.cpu())
        state.withLock { $0 = [m] }
    }

    /// Marks the end of `stage` (nothing when timing is off).
    public func mark(_ stage: String) {
        state.withLock { marks in
            guard marks != nil else { return }
            marks!.append(Mark(stage: stage, wall: .now, cpu: Self.cpu()))
        }
    }

    /// One line per stage: wall ms, CPU ms (this process), cumulative wall ms; then the total.
    public func report() -> [String] {
        guard let marks = state.withLock({ $0 }), let first = marks.first else { return [] }
        func ms(_ d: Duration) -> String {
            let hundredths = max(0, d.components.seconds * 100_000 + d.components.attoseconds / 10_000_000_000_000)
            let text = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
            return String(repeating: " ", count: max(0, 8 - text.count)) + text
        }
        var out = ["warden: timings (ms): stage wall, cpu (warden only), cumulative wall"]
        for (prev, m) in zip(marks, marks.dropFirst()) {
            out.append("  \(ms(m.wall - prev.wall)) \(ms(m.cpu - prev.cpu)) \(ms(m.wall - first.wall))  \(m.stage)")
        }
        if let last = marks.last {
            out.append("  \(ms(last.wall - first.wall)) \(ms(last.cpu - first.cpu))           total since \(first.stage)")
        }
        return out
    }

    static func cpu() -> Duration {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return .seconds(Int64(u.ru_utime.tv_sec + u.ru_stime.tv_sec)) + .microseconds(Int64(u.ru_utime.tv_usec + u.ru_stime.tv_usec))
    }
}
