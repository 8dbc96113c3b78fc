import Foundation

/// The printed matrix: rows workloads, columns policies (pass, FAIL, skip, or - where the
/// policy does not fit), then each failure and skip with its reason.
struct WorkloadMatrixTable {
    var workloads: [String]
    var policies: [String]
    var cells: [WorkloadCell]
    /// Cells where `warden doctor`'s verdict and the run disagree.
    var disagreements: [String] = []

    func render() -> String {
        let nameWidth = max(10, (workloads.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
        let widths = policies.map { $0.count + 2 }
        var lines = ["Workload matrix (warden run; pass = the workload passed and the forbidden actions stayed denied)"]
        lines.append(pad("", nameWidth) + zip(policies, widths).map { pad($0, $1) }.joined())
        for w in workloads {
            let marks = policies.map { p in cells.first { $0.workload == w && $0.policy == p }?.outcome.mark ?? "-" }
            lines.append(pad(w, nameWidth) + zip(marks, widths).map { pad($0, $1) }.joined())
        }
        let passed = cells.filter { $0.outcome == .pass }.count
        let skipped = cells.filter { $0.outcome.mark == "skip" }.count
        lines.append("\(passed) of \(cells.count - skipped) cells pass" + (skipped > 0 ? ", \(skipped) skipped" : "")
                     + String(format: " (%.0f s of runs; slowest: ", cells.map(\.seconds).reduce(0, +))
                     + cells.sorted { $0.seconds > $1.seconds }.prefix(3)
                        .map { "\($0.workload) under \($0.policy) \(Int($0.seconds.rounded())) s" }.joined(separator: ", ") + ")")
        for c in cells {
            switch c.outcome {
            case .pass: continue
            case .fail(let why): lines.append("FAIL \(c.workload) under \(c.policy): \(why)")
            case .skip(let why): lines.append("skip \(c.workload) under \(c.policy): \(why)")
            }
        }
        for d in disagreements { lines.append("doctor disagrees: \(d)") }
        if disagreements.isEmpty && !cells.isEmpty { lines.append("warden doctor predicted every cell") }
        return lines.joined(separator: "\n")
    }
}
