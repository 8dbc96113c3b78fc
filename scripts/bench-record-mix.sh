#!/usr/bin/env bash
# Records the realistic syscall mix used by `make bench` (filter cost) into
# scripts/bench-data/syscall-mix.txt. Run from the repository root; needs strace, git,
# python3 and cc. The result is committed so every bench run uses the same mix.
#
# Workloads (each traced with `strace -ff -e raw=all`, every thread and child included):
#   git status, git log -n 30 --stat     in this repository
#   python3 -c '...'                     imports json/re/subprocess, runs `true`
#   cc -c small.c                        compiles a small C file (cc1, as included)
# Lines: COUNT NAME ARG0..ARG5 (hex, as the kernel saw them). Values ≥ 2^40 (user-space
# pointers, which differ with ASLR and which no seccomp filter can usefully check) are
# written as 0x7f0000000000 so identical calls aggregate.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/scripts/bench-data/syscall-mix.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/small.c" <<'C'
#include <stdio.h>
#include <string.h>
struct point { int x, y; };
static int dist2(struct point a, struct point b) { int dx = a.x - b.x, dy = a.y - b.y; return dx * dx + dy * dy; }
int main(int argc, char **argv) { struct point p = { argc, (int)strlen(argv[0]) }, q = { 3, 4 }; printf("%d\n", dist2(p, q)); return 0; }
C
run() { local tag=$1; shift; strace -ff -qq -e raw=all -o "$tmp/trace.$tag" "$@" >/dev/null 2>&1; }
run git-status git -C "$root" status
run git-log git -C "$root" log -n 30 --stat
py=$(python3 -c "import sys; print(sys.executable)")   # the real interpreter, not a pyenv shim
run python "$py" -c 'import json, re, subprocess; subprocess.run(["true"]); print(json.dumps({"k": re.sub("a", "b", "banana")}))'
run cc cc -O2 -c "$tmp/small.c" -o "$tmp/small.o"
python3 - "$tmp" "$out" <<'PY'
import collections, glob, os, re, sys
tmp, out = sys.argv[1], sys.argv[2]
line_re = re.compile(r'^([a-z0-9_]+)\((.*)\)\s+= ')
counts = collections.Counter()
per_tool = collections.Counter()
for path in sorted(glob.glob(os.path.join(tmp, "trace.*"))):
    tool = os.path.basename(path).split(".")[1]
    for line in open(path, errors="replace"):
        m = line_re.match(line)
        if not m:
            continue
        name, raw = m.group(1), m.group(2)
        args = []
        for a in (raw.split(", ") if raw else []):
            try:
                v = int(a, 16) if a.startswith("0x") else int(a)
            except ValueError:
                v = 0
            if v >= 1 << 40 and v < 1 << 48:
                v = 0x7f0000000000
            args.append(v & 0xffffffffffffffff)
        args = (args + [0] * 6)[:6]
        counts[(name, tuple(args))] += 1
        per_tool[tool] += 1
with open(out, "w") as f:
    f.write("# Syscall mix for `make bench` (filter cost), recorded by scripts/bench-record-mix.sh\n")
    f.write("# calls per workload: " + ", ".join(f"{k} {v}" for k, v in sorted(per_tool.items())) + "\n")
    f.write("# COUNT NAME ARG0 ARG1 ARG2 ARG3 ARG4 ARG5\n")
    for (name, args), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        f.write(f"{n} {name} " + " ".join(hex(a) for a in args) + "\n")
print(f"{sum(counts.values())} calls, {len(counts)} distinct lines -> {out}")
PY
