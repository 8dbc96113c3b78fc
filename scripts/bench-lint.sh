#!/usr/bin/env bash
# Times `warden lint` and `warden fmt` (release build) on a generated ~5,500-line policy:
# 50 permission sets of 40 rules, 10 identities of ~330 rules each using 5 sets.
# Usage: scripts/bench-lint.sh [runs]   (builds .build/release/warden if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bin=.build/release/warden
[[ -x $bin ]] || swift build -c release --product warden >&2
policy=$(mktemp --suffix=.warden)
trap 'rm -f "$policy"' EXIT

python3 - "$policy" <<'EOF'
import random, sys
random.seed(1)
out = ["warden 1", ""]
for s in range(50):
    out.append(f"permissions set{s} {{")
    for i in range(40):
        k = random.randrange(5)
        if k == 0: out.append(f'  allow fs read, exec "/usr/lib/p{s}/d{i}"')
        elif k == 1: out.append(f'  allow fs write "/srv/data{s}/d{i}"')
        elif k == 2: out.append(f'  deny  fs write "/srv/data{s}/d{i}/x"')
        elif k == 3: out.append(f'  allow net connect tcp "h{i}.s{s}.example.org:443"')
        else: out.append('  allow syscall socket(domain in [AF_UNIX, AF_INET])')
    out += ["}", ""]
for n in range(10):
    out += [f"identity id{n} {{", '  description "x"', "  use " + ", ".join(f"set{s}" for s in range(n * 5, n * 5 + 5))]
    for i in range(250):
        out.append(f'  allow fs read, write "${{workspace}}/d{i}"')
        if i % 3 == 0: out.append(f'  deny  fs write "${{workspace}}/d{i}/.git"')
    out += ["  limit wall-time 1h", "}", ""]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
EOF

echo "policy: $(wc -l <"$policy") lines"
for cmd in lint fmt; do
  best=""
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$bin" "$cmd" "$policy" >/dev/null 2>&1 || true
    t=$(( ($(date +%s%N) - start) / 1000000 ))
    [[ -z $best || $t -lt $best ]] && best=$t
  done
  echo "warden $cmd: best of $runs runs: ${best} ms"
done
