import ArgumentParser
import WardenCompiler
import WardenPolicy

/// `warden test PATH...`: runs every `test` block of the policies.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the test blocks of policy files.",
        discussion: "Prints each failing expectation with its location and the rule that decided instead, then `N passed, M failed`. Exit status: 0 all passed, 1 any failure or policy error, 2 usage or I/O error."
    )

    @Argument(help: "Policy files.")
    var paths: [String]

    @Flag(name: .shortAndLong, help: "Also print passing expectations.")
    var verbose = false

    func run() throws {
        var passed = 0
        var failed = 0
        var broken = false
        for path in paths {
            let policy: CheckedPolicy
            do {
                policy = try PolicyInput.load(path, failureCode: 1)
            } catch let exit as ExitCode {
                if exit.rawValue == 2 { throw exit }
                broken = true
                continue
            }
            let results: [ExpectationResult]
            do {
                results = try PolicyTestRunner(policy: policy).run()
            } catch {
                printError("\(shown(path)): \(error.description)")
                broken = true
                continue
            }
            if results.isEmpty { printText("\(shown(path)): no tests") }
            for r in results {
                let span = r.expectation.span
                let at = "\(shown(span.file)):\(span.start.line):\(span.start.column)"
                if r.passed {
                    passed += 1
                    if verbose { printText("\(at): pass: \(shown(r.test)): \(ExplainFormat.action(r.expectation))") }
                } else {
                    failed += 1
                    printText("\(at): FAIL: \(shown(r.test)): expected \(r.expectation.effect.rawValue) \(ExplainFormat.action(r.expectation)), but it is \(r.decision.effect == .allow ? "allowed" : "denied")")
                    for line in ExplainFormat.reasons(r.decision) { printText("    " + line) }
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 || broken { throw ExitCode(1) }
    }
}
