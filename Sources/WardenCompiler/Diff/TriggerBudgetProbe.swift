import WardenPolicy

/// An amount a trigger's budget may allow (`warden diff`): runs started or run time used
/// within one `window`, or runs going at once.
///
/// A budget of `C` per period `P` allows at most `C × ⌈window / P⌉` within a window (any
/// `P`-long stretch holds at most `C`), so budgets of different periods compare exactly:
/// `50 per hour` → `1000 per day` lets 51 runs start within an hour (wider) and no longer
/// 1001 within a day (narrower).
public enum TriggerBudgetProbe: Sendable, Hashable {
    case runs(Int, window: TriggerPeriod)
    case concurrent(Int)
    case wallTime(seconds: Int, window: TriggerPeriod)

    var action: String {
        switch self {
        case .runs(let n, let w): return "start \(n) runs within one \(w.rawValue)"
        case .concurrent(let n): return "have \(n) runs going at once"
        case .wallTime(let s, let w): return "use \(LimitValue.canonicalDuration(UInt64(s))) of run time within one \(w.rawValue)"
        }
    }

    /// Allowed when `budget` sets no bound of this kind or the amount fits it.
    func decision(_ budget: TriggerBudget) -> Decision {
        func decide(_ amount: Int, bound: Int?, period: TriggerPeriod, window: TriggerPeriod?, what: String) -> Decision {
            guard let bound else { return Decision(effect: .allow, rules: [], mechanism: "trigger budget", note: "no \(what) budget") }
            let periods = window.map { ($0.seconds + period.seconds - 1) / period.seconds } ?? 1
            let (most, overflow) = bound.multipliedReportingOverflow(by: periods)
            let fits = overflow || amount <= most
            let stated = window == nil ? "budget concurrent \(bound)" : "budget \(what) \(what == "runs" ? String(bound) : LimitValue.canonicalDuration(UInt64(bound))) per \(period.rawValue)"
            let rules = budget.spans[what].map { [Provenance(file: $0.file, line: $0.start.line, column: $0.start.column, via: [], because: nil, rule: stated)] } ?? []
            return Decision(effect: fits ? .allow : .deny, rules: rules, mechanism: "trigger budget", note: stated)
        }
        switch self {
        case .runs(let n, let w): return decide(n, bound: budget.runsCount, period: budget.runsPeriod, window: w, what: "runs")
        case .concurrent(let n): return decide(n, bound: budget.concurrent, period: .minute, window: nil, what: "concurrent")
        case .wallTime(let s, let w): return decide(s, bound: budget.wallTimeSeconds, period: budget.wallTimePeriod, window: w, what: "wall-time")
        }
    }

    /// A budget's bounds without where they are written: equal bounds decide alike.
    struct Bounds: Hashable {
        var runs: Int?, runsPeriod: TriggerPeriod, concurrent: Int?, wallTime: Int?, wallTimePeriod: TriggerPeriod
        init(_ b: TriggerBudget) {
            (runs, runsPeriod, concurrent, wallTime, wallTimePeriod) = (b.runsCount, b.runsPeriod, b.concurrent, b.wallTimeSeconds, b.wallTimePeriod)
        }
    }

    /// Just past each bound `budget` sets: the amounts whose decision a change can flip.
    static func edges(of budget: TriggerBudget) -> [TriggerBudgetProbe] {
        var out: [TriggerBudgetProbe] = []
        if let c = budget.runsCount, c < Int.max { out.append(.runs(c + 1, window: budget.runsPeriod)) }
        if let c = budget.concurrent, c < Int.max { out.append(.concurrent(c + 1)) }
        if let s = budget.wallTimeSeconds, s < Int.max { out.append(.wallTime(seconds: s + 1, window: budget.wallTimePeriod)) }
        return out
    }
}
