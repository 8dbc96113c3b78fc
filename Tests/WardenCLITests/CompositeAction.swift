import Foundation

/// A composite GitHub Action read strictly from its action.yml (MiniYAML), and run locally
/// the way a runner runs it: each step's `run:` script with `bash --noprofile --norc -eo
/// pipefail`, in the workspace, with GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_PATH,
/// GITHUB_STEP_SUMMARY, GITHUB_ACTION_PATH and RUNNER_TEMP set, `${{ inputs.NAME }}`
/// substituted in the steps' `env:` values, the first failing step ending the job.
struct CompositeAction {
    struct Input {
        var name: String
        var required: Bool
        var defaultValue: String
    }

    struct Step {
        var name: String
        var id: String?
        var env: [(String, String)]
        var script: String
    }

    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    var inputs: [Input]
    var outputs: [(name: String, value: String)]
    var steps: [Step]
    /// The directory holding action.yml (GITHUB_ACTION_PATH).
    var directory: String

    /// Reads `path`; anything the local runner would not run exactly as GitHub does (a
    /// `uses:` or `if:` step, a shell other than bash, an expression in a script, an
    /// unknown key) is an error.
    init(path: String) throws {
        directory = (path as NSString).deletingLastPathComponent
        let root = try MiniYAML.parse(try String(contentsOfFile: path, encoding: .utf8))
        try Self.onlyKeys(root, ["name", "description", "author", "inputs", "outputs", "runs"], "the action")
        inputs = []
        for key in root["inputs"]?.keys ?? [] {
            let node = root["inputs"]![key]!
            try Self.onlyKeys(node, ["description", "required", "default"], "input \(key)")
            let required = node["required"]?.string ?? "false"
            guard required == "true" || required == "false" else { throw ReadError(description: "input \(key): required must be true or false") }
            inputs.append(Input(name: key, required: required == "true", defaultValue: node["default"]?.string ?? ""))
        }
        outputs = []
        for key in root["outputs"]?.keys ?? [] {
            let node = root["outputs"]![key]!
            try Self.onlyKeys(node, ["description", "value"], "output \(key)")
            guard let value = node["value"]?.string else { throw ReadError(description: "output \(key) has no value") }
            outputs.append((key, value))
        }
        guard let runs = root["runs"] else { throw ReadError(description: "no runs:") }
        try Self.onlyKeys(runs, ["using", "steps"], "runs")
        guard runs["using"]?.string == "composite" else { throw ReadError(description: "runs.using is not composite") }
        guard case .list(let stepNodes)? = runs["steps"] else { throw ReadError(description: "runs.steps is not a list") }
        steps = []
        for (n, node) in stepNodes.enumerated() {
            try Self.onlyKeys(node, ["name", "id", "shell", "env", "run"], "step \(n + 1)")
            guard node["shell"]?.string == "bash" else { throw ReadError(description: "step \(n + 1): shell must be bash") }
            guard let script = node["run"]?.string else { throw ReadError(description: "step \(n + 1) has no run:") }
            guard !script.contains("${{") else {
                throw ReadError(description: "step \(n + 1): an expression inside run: (pass inputs through env:)")
            }
            var env: [(String, String)] = []
            for key in node["env"]?.keys ?? [] {
                guard let value = node["env"]![key]!.string else { throw ReadError(description: "step \(n + 1): env \(key) is not a scalar") }
                env.append((key, value))
            }
            steps.append(Step(name: node["name"]?.string ?? "step \(n + 1)", id: node["id"]?.string, env: env, script: script))
        }
    }

    private static func onlyKeys(_ node: MiniYAML.Node, _ allowed: Set<String>, _ what: String) throws {
        guard case .map = node else { throw ReadError(description: "\(what) is not a map") }
        if let extra = node.keys.first(where: { !allowed.contains($0) }) {
            throw ReadError(description: "\(what): unsupported key `\(extra)`")
        }
    }

    /// `${{ inputs.NAME }}` and `${{ steps.ID.outputs.NAME }}` in `text`; any other
    /// expression is an error.
    static func substitute(_ text: String, inputs: [String: String], stepOutputs: [String: [String: String]]) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { throw ReadError(description: "unterminated expression in \(text)") }
            let expression = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let parts = expression.split(separator: ".").map(String.init)
            if parts.count == 2, parts[0] == "inputs", let value = inputs[parts[1]] {
                out += value
            } else if parts.count == 4, parts[0] == "steps", parts[2] == "outputs" {
                out += stepOutputs[parts[1]]?[parts[3]] ?? ""
            } else {
                throw ReadError(description: "unsupported expression `\(expression)`")
            }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    struct StepResult {
        var name: String
        var status: Int32
        var stdout: String
        var stderr: String
    }

    struct JobResult {
        /// The steps that ran, in order; the last one failed when the job failed.
        var steps: [StepResult]
        var succeeded: Bool
        /// The action's outputs (from the steps' GITHUB_OUTPUT).
        var outputs: [String: String]
        /// What the steps wrote to GITHUB_STEP_SUMMARY.
        var summary: String
        /// The directories the steps added to GITHUB_PATH.
        var pathAdditions: [String]
        var log: String { steps.map { "== \($0.name): exit \($0.status)\n\($0.stdout)\($0.stderr)" }.joined(separator: "\n") }
    }

    /// Runs the steps with `with` as the inputs (a required input without a value is an
    /// error, as on GitHub), in `workspace`, with `runnerTemp` as RUNNER_TEMP.
    func run(with given: [String: String], workspace: String, runnerTemp: String) throws -> JobResult {
        var values: [String: String] = [:]
        for input in inputs {
            if let v = given[input.name] { values[input.name] = v } else if input.required {
                throw ReadError(description: "input \(input.name) is required")
            } else {
                values[input.name] = input.defaultValue
            }
        }
        if let unknown = given.keys.first(where: { values[$0] == nil }) { throw ReadError(description: "unknown input \(unknown)") }

        let files = runnerTemp + "/_runner_file_commands"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        let summaryFile = files + "/step_summary"
        FileManager.default.createFile(atPath: summaryFile, contents: nil)
        var path = ["/usr/local/bin", "/usr/bin", "/bin"]
        var pathAdditions: [String] = []
        var stepOutputs: [String: [String: String]] = [:]
        var results: [StepResult] = []
        var succeeded = true
        for (n, step) in steps.enumerated() {
            let outputFile = files + "/output_\(n)", pathFile = files + "/path_\(n)", script = files + "/step_\(n).sh"
            FileManager.default.createFile(atPath: outputFile, contents: nil)
            FileManager.default.createFile(atPath: pathFile, contents: nil)
            try step.script.write(toFile: script, atomically: true, encoding: .utf8)
            var env = ["PATH": path.joined(separator: ":"), "HOME": runnerTemp, "LANG": "C.UTF-8",
                       "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": workspace,
                       "GITHUB_OUTPUT": outputFile, "GITHUB_PATH": pathFile, "GITHUB_STEP_SUMMARY": summaryFile,
                       "GITHUB_ACTION_PATH": directory, "RUNNER_TEMP": runnerTemp,
                       "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"]
            for (k, v) in step.env { env[k] = try Self.substitute(v, inputs: values, stepOutputs: stepOutputs) }
            let r = try CLISupport.run("/bin/bash", ["--noprofile", "--norc", "-eo", "pipefail", script], in: workspace, environment: env)
            results.append(StepResult(name: step.name, status: r.status, stdout: r.stdout, stderr: r.stderr))
            if let id = step.id {
                var outputs: [String: String] = [:]
                for line in try String(contentsOfFile: outputFile, encoding: .utf8).split(separator: "\n") {
                    guard let eq = line.firstIndex(of: "=") else { throw ReadError(description: "\(step.name): unsupported GITHUB_OUTPUT line \(line)") }
                    outputs[String(line[..<eq])] = String(line[line.index(after: eq)...])
                }
                stepOutputs[id] = outputs
            }
            let added = try String(contentsOfFile: pathFile, encoding: .utf8).split(separator: "\n").map(String.init)
            path = added.reversed() + path
            pathAdditions += added
            if r.status != 0 { succeeded = false; break }
        }
        var outputs: [String: String] = [:]
        for (name, value) in self.outputs { outputs[name] = try Self.substitute(value, inputs: values, stepOutputs: stepOutputs) }
        return JobResult(steps: results, succeeded: succeeded, outputs: outputs,
                         summary: try String(contentsOfFile: summaryFile, encoding: .utf8), pathAdditions: pathAdditions)
    }
}
