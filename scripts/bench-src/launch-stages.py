#!/usr/bin/env python3
"""Where a launch's milliseconds go: `warden run --timings` repeated, one raw row per stage.

    launch-stages.py ROUNDS WARDEN POLICY WORKSPACE AUDIT_LOG >> raw.tsv

Each round launches /bin/true under POLICY and reads the stage table `--timings` prints on
stderr; one launch before the rounds warms the caches and is not counted. Rows (section `launch stages`, milliseconds): every stage's wall time and Warden's
own CPU time in it, the whole process's wall time measured from here, and what lies outside
the timed stages (exec, dynamic linking, the Swift runtime's start, argument parsing, exit,
and Python's own spawn, about a millisecond).
"""
import re, subprocess, sys, time

rounds, warden, policy, workspace, audit_log = int(sys.argv[1]), *sys.argv[2:6]
stage_line = re.compile(r"^\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\S.*)$")
total_line = re.compile(r"^\s+([\d.]+)\s+([\d.]+)\s+total since (.*)$")
command = [warden, "run", "--timings", "-q", "--policy", policy, "--workspace", workspace,
           "--audit-log", audit_log, "--", "/bin/true"]

for round in range(rounds + 1):
    start = time.perf_counter_ns()
    done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    whole = (time.perf_counter_ns() - start) / 1e6
    if done.returncode != 0:
        sys.exit(f"launch-stages: warden run exited {done.returncode}: {done.stderr.decode(errors='replace')[-400:]}")
    if round == 0:
        continue
    total = None
    for line in done.stderr.decode().splitlines():
        if m := total_line.match(line):
            total = float(m.group(1))
            print(f"launch stages\ttimed stages together: wall\tms\t{m.group(1)}")
            print(f"launch stages\ttimed stages together: CPU (warden only)\tms\t{m.group(2)}")
        elif m := stage_line.match(line):
            print(f"launch stages\t{m.group(4)}: wall\tms\t{m.group(1)}")
            print(f"launch stages\t{m.group(4)}: CPU (warden only)\tms\t{m.group(2)}")
    if total is None:
        sys.exit("launch-stages: `warden run --timings` printed no total line")
    print(f"launch stages\twhole process: wall\tms\t{whole:.3f}")
    print(f"launch stages\toutside the timed stages (exec, runtime start, argument parsing, exit): wall\tms\t{whole - total:.3f}")
