/// One case per trigger diagnostic code (run by `CheckerDiagnosticTests`).
let triggerHead = "warden 1\nidentity a {\n}\ntrigger t {\n  identity a\n"

let triggerDiagnosticCases: [DiagnosticCase] = [
    .init(code: "duplicate-trigger-clause", text: triggerHead + "  on manual\n  on manual\n  by \"u\"\n  run \"x\"\n}\n",
          expected: ["duplicate-trigger-clause@7:3"]),
    .init(code: "trigger-missing-clause", text: triggerHead + "  on manual\n  by \"u\"\n}\n", expected: ["trigger-missing-clause@4:9"]),
    .init(code: "trigger-clause-conflict", text: triggerHead + "  on schedule \"@daily\"\n  by \"u\"\n  run \"x\"\n}\n",
          expected: ["trigger-clause-conflict@7:3"]),
    .init(code: "invalid-cron", text: triggerHead + "  on schedule \"61 * * * *\"\n  run \"x\"\n}\n", expected: ["invalid-cron@6:15"]),
    .init(code: "unknown-time-zone", text: triggerHead + "  on schedule \"@daily\" timezone \"Mars/X\"\n  run \"x\"\n}\n",
          expected: ["unknown-time-zone@6:33"]),
    .init(code: "invalid-trigger-pattern", text: triggerHead + "  on github push\n  repository \"\"\n  run \"x\"\n}\n",
          expected: ["invalid-trigger-pattern@7:14"]),
    .init(code: "unknown-trigger-event", text: triggerHead + "  on github pull_requests\n  repository \"a/b\"\n  run \"x\"\n}\n",
          expected: ["unknown-trigger-event@6:13"]),
    .init(code: "invalid-trigger-hook", text: triggerHead + "  on webhook \"Bad\"\n  run \"x\"\n}\n", expected: ["invalid-trigger-hook@6:14"]),
    .init(code: "invalid-trigger-workspace", text: triggerHead + "  on manual\n  by \"u\"\n  workspace fresh\n  run \"x\"\n}\n",
          expected: ["invalid-trigger-workspace@8:13"]),
    .init(code: "invalid-trigger-fleet", text: triggerHead + "  on manual\n  by \"u\"\n  fleet \"repos.txt\"\n  run \"x\"\n}\n",
          expected: ["invalid-trigger-fleet@8:9"]),
    .init(code: "invalid-trigger-field", text: triggerHead + "  on webhook \"h\"\n  fields \"a..b\"\n  run \"x\"\n}\n",
          expected: ["invalid-trigger-field@7:10"]),
    .init(code: "invalid-trigger-budget", text: triggerHead + "  on manual\n  by \"u\"\n  run \"x\"\n  budget runs 0 per hour\n}\n",
          expected: ["invalid-trigger-budget@9:15"]),
    .init(code: "empty-run", text: triggerHead + "  on manual\n  by \"u\"\n  run \"\"\n}\n", expected: ["empty-run@8:7"]),
    .init(code: "invalid-trigger-event", text: "warden 1\ntest \"t\" {\n  expect allow trigger smoke \"x\"\n}\n",
          expected: ["invalid-trigger-event@3:24"]),
]
