import ArgumentParser
import WardenCompiler
import WardenPolicy

/// `warden test PATH...`: runs every `test` block of the policies.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the test blocks of policy files.",
        discussion: """
            A directory stands for the *.warden files in it; `-` reads the policy from standard input (its \
            includes resolve relative to the current directory). With --format text (the default) each failing \
            expectation is printed with its location and the rule that decided instead, then `N passed, M failed`. \
            --format json prints one JSON document for all files; --format junit prints JUnit XML (a testsuite \
            per file, a testcase per expectation). Policy errors go to standard error in every format. \
            Exit status: 0 all passed, 1 any failure or policy error, 2 usage or I/O error.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, junit
    }

    @Argument(help: "Policy files or directories (`-`: standard input).")
    var paths: [String]

    @Option(help: "Output format: text, json (one document) or junit (JUnit XML).")
    var format: Format = .text

    @Flag(name: .shortAndLong, help: "Also print passing expectations (text format).")
    var verbose = false

    func validate() throws {
        if paths.filter({ $0 == StandardInputPolicy.argument }).count > 1 {
            throw ValidationError("`-` (standard input) can be given only once")
        }
    }

    func run() throws {
        var ioFailed = false
        let files = LintRun.expand(paths) { message in
            printError(message)
            ioFailed = true
        }
        var reports: [TestFileReport] = []
        for path in files {
            let name = StandardInputPolicy.loaderPath(path)
            switch PolicyInput.check(path) {
            case .failure(let failure):
                if case .io = failure { ioFailed = true }
                reports.append(TestFileReport(path: name, results: [], error: failure.message))
            case .success(let policy):
                do {
                    reports.append(TestFileReport(path: name, results: try PolicyTestRunner(policy: policy).run(), error: nil))
                } catch {
                    printError("\(shown(name)): \(error.description)")
                    reports.append(TestFileReport(path: name, results: [], error: error.description))
                }
            }
            if format == .text, let report = reports.last { printReport(report) }
        }
        let totals = TestTotals(reports)
        switch format {
        case .text: print("\(totals.passed) passed, \(totals.failed) failed")
        case .json: print(TestReportFormat.json(reports, totals: totals))
        case .junit: print(TestReportFormat.junit(reports, totals: totals), terminator: "")
        }
        if ioFailed { throw ExitCode(2) }
        if totals.failed > 0 || totals.broken > 0 { throw ExitCode(1) }
    }

    private func printReport(_ report: TestFileReport) {
        if report.error == nil, report.results.isEmpty { printText("\(shown(report.path)): no tests") }
        for r in report.results {
            let span = r.expectation.span
            let at = "\(shown(span.file)):\(span.start.line):\(span.start.column)"
            if r.passed {
                if verbose { printText("\(at): pass: \(shown(r.test)): \(ExplainFormat.action(r.expectation))") }
            } else {
                printText("\(at): FAIL: \(shown(r.test)): expected \(r.expectation.effect.rawValue) \(ExplainFormat.action(r.expectation)), but it is \(r.decision.effect == .allow ? "allowed" : "denied")")
                for line in ExplainFormat.reasons(r.decision) { printText("    " + line) }
            }
        }
    }
}
