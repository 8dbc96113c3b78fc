/// The workload matrix's catalog: ten everyday agent workloads, the accesses each needs,
/// and which stock policies fit which. See `Workload`.
///
/// A requirement is something the workload fails without; what a tool merely tries and
/// survives (npm's and pip's caches and logs under the home, the JVM's perf data in /tmp)
/// is not listed, nor what every run's fresh writable home provides (Go's build cache, the
/// git identity Warden generates there). `WorkloadMatrixTests` checks that `warden doctor`'s verdict from these
/// lists agrees with each cell's real run.
public enum WorkloadCatalog {
    /// Stock policies that write and run the workspace: they fit every workload.
    public static let workspacePolicies = ["default", "test-coverage", "lint-fixer", "dependency-updater", "cve-remediation"]
    /// Stock policies that only read the workspace: they fit workloads that do not write it.
    public static let readOnlyPolicies = ["ci-migration"]
    /// Every stock policy of the matrix, in column order.
    public static var policies: [String] { workspacePolicies + readOnlyPolicies }

    /// The workloads, in row order.
    public static let all: [Workload] = [
        Workload(name: "c-make", title: "C with make (a recipe calling cc), run the program and its test",
                 tools: ["make", "cc"],
                 requirements: [
                    .fs(.write, "${tmp}/cc-temp.s", "cc writes its temporary assembler and object files in TMPDIR"),
                    .fs(.exec, "${workspace}/hello", "the recipe runs the program it built"),
                    .syscall("setresuid", [0xFFFF_FFFF, 0, 0xFFFF_FFFF], "GNU make restores its real uid (setresuid(-1, 0, -1) as root) before each recipe"),
                 ], writesWorkspace: true),
        Workload(name: "c-cmake", title: "C with cmake, build and ctest",
                 tools: ["cmake", "ctest", "cc", "make"],
                 requirements: [
                    .fs(.write, "${workspace}/build/CMakeCache.txt", "cmake configures into build/"),
                    .syscall("setresuid", [0xFFFF_FFFF, 0, 0xFFFF_FFFF], "cmake's generated Makefiles run GNU make (its compiler checks too)"),
                    .fs(.exec, "${workspace}/build/CMakeFiles/probe", "cmake's compiler checks run the programs they build"),
                    .fs(.write, "${tmp}/cc-temp.s", "cc writes its temporary files in TMPDIR"),
                 ], writesWorkspace: true),
        Workload(name: "python-pip", title: "Python venv + pip install --no-index --find-links of a local wheel",
                 tools: ["python3"],
                 requirements: [
                    .fs(.exec, "${workspace}/.venv/bin/python", "the venv's interpreter runs from the workspace"),
                 ], writesWorkspace: true),
        Workload(name: "pytest", title: "pytest on jsonschema's own test suite (copied from the system's dist-packages)",
                 tools: ["python3", "pytest"],
                 requirements: [
                    .fs(.write, "${workspace}/.pytest_cache/v", "pytest's cache provider"),
                    .fs(.write, "${tmp}/pytest-of-root/x", "pytest's tmp_path fixtures live in TMPDIR"),
                 ], writesWorkspace: true),
        Workload(name: "node", title: "Node: npm ci --offline (a local file: dependency) + node --test",
                 tools: ["node", "npm"],
                 requirements: [
                    .fs(.write, "${workspace}/node_modules/pad-lite", "npm ci links the local dependency into node_modules"),
                 ], writesWorkspace: true),
        Workload(name: "go", title: "Go build, vet and test",
                 tools: ["go"],
                 requirements: [
                    .fs(.write, "${tmp}/go-build1/b001/x.test", "go test links the test binary in TMPDIR"),
                    .fs(.exec, "${tmp}/go-build1/b001/x.test", "go test and go vet run binaries they built in TMPDIR"),
                 ], writesWorkspace: true),
        Workload(name: "rust", title: "Rust cargo build + cargo test --offline with a doctest",
                 tools: ["cargo", "rustc"],
                 requirements: [
                    .fs(.write, "${workspace}/target/debug/x", "cargo builds into target/"),
                    .fs(.exec, "${workspace}/target/debug/deps/x", "cargo test runs the test binaries it built"),
                    .fs(.exec, "${tmp}/rustdoctestXXXX/rust_out", "rustdoc builds and runs each doctest in TMPDIR"),
                 ], writesWorkspace: true),
        Workload(name: "java", title: "Java javac + java",
                 tools: ["javac", "java"],
                 requirements: [
                    .fs(.write, "${workspace}/out/Hello.class", "javac writes classes into the workspace"),
                 ], writesWorkspace: true),
        Workload(name: "git", title: "git clone, branch, commit, rebase, worktree, gc",
                 tools: ["git"],
                 requirements: [
                    .fs(.write, "${workspace}/.git/objects/pack/x.pack", "commits and gc write objects and packs"),
                    .fs(.write, "${workspace}/.git/refs/heads/feature", "branches are refs"),
                    .fs(.write, "${workspace}/.git/worktrees/w1/HEAD", "git worktree keeps its state under .git/worktrees"),
                    .fs(.write, "${tmp}/clone/.git/HEAD", "the clone goes to TMPDIR"),
                 ], writesWorkspace: true),
        Workload(name: "shell", title: "find, grep, sed, sort, xargs and tar over 20,000 files (reads the workspace)",
                 tools: ["find", "grep", "sed", "sort", "xargs", "tar"],
                 requirements: [
                    .fs(.read, "${workspace}/src/x", "the files are read in place"),
                    .fs(.write, "${tmp}/src.tar", "results and the archive go to TMPDIR"),
                 ], writesWorkspace: false),
    ]

    /// The workload named `name`.
    public static func named(_ name: String) -> Workload? { all.first { $0.name == name } }
}
