#!/usr/bin/env bash
# `warden diff` benchmark for `make bench` (section 9), runnable alone:
#
#   scripts/bench-diff.sh [WARDEN [RAW.tsv]]
#
# Generates a policy with 1,000 identities (scripts/bench-src/gen-policy.py, the generator of
# the compile and lint benchmark), copies it and changes one line of one identity (a wider
# memory limit), then times `warden diff OLD NEW` (BENCH_DIFF_ROUNDS rounds, default 10),
# checks the diff finds exactly that change (exit 1, one identity wider), and prints the
# median with the goal (< 2 s, release build) and a pass/miss mark. With RAW.tsv, appends
# `diff<TAB>NAME<TAB>ms<TAB>VALUE` rows for the report. WARDEN defaults to the release build
# (.build/release/warden; built when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
warden=${1:-$root/.build/release/warden}
raw=${2:-}
rounds=${BENCH_DIFF_ROUNDS:-10}
goal_ms=2000
say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 2; }

if [[ ! -x $warden ]]; then
  [[ $# -eq 0 ]] || die "$warden is not an executable warden"
  say "building release (swift build -c release --product warden)"
  (cd "$root" && swift build -c release --product warden >&2)
fi
command -v python3 >/dev/null || die "python3 is needed to generate the policy"

work=$(mktemp -d /tmp/warden-diffbench-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$root/scripts/bench-src/gen-policy.py" 1000 "$work/old.warden"
"$warden" lint "$work/old.warden" >/dev/null 2>&1 || die "the generated policy does not lint"
# One line of one identity in the middle: its memory limit goes up by 1 GiB.
target=$(sed -n 's/^identity \([^ ]*\) {$/\1/p' "$work/old.warden" | sed -n '501p')
awk -v id="$target" '
  $0 == "identity " id " {" { inside = 1 }
  inside && $1 == "limit" && $2 == "memory" && !done { sub(/[0-9]+GiB/, ($3 + 1) "GiB"); done = 1 }
  $0 == "}" { inside = 0 }
  { print }' "$work/old.warden" >"$work/new.warden"
changed=$(diff "$work/old.warden" "$work/new.warden" | grep -c '^>' || true)
[[ $changed -eq 1 ]] || die "expected one changed line, got $changed"

# Correctness first: exactly the changed identity is wider, in the limit domain.
set +e
"$warden" diff "$work/old.warden" "$work/new.warden" --format json >"$work/out.json"
status=$?
set -e
[[ $status -eq 1 ]] || die "warden diff exited $status, expected 1 (one identity wider)"
python3 - "$work/out.json" "$target" <<'PY' || die "warden diff did not report exactly the changed identity"
import json, sys
report = json.load(open(sys.argv[1]))
wider = [i for f in report["files"] for i in f["identities"] if i["verdict"] != "equivalent"]
assert [i["identity"] for i in wider] == [sys.argv[2]], wider
assert [w["domain"] for w in wider[0]["widenings"]] == ["limit"], wider[0]["widenings"]
assert report["summary"]["equivalent"] == 999, report["summary"]
PY

samples=()
for ((r = 1; r <= rounds; r++)); do
  start=$(date +%s%N)
  "$warden" diff "$work/old.warden" "$work/new.warden" >/dev/null || [[ $? -eq 1 ]]
  samples+=($(( ($(date +%s%N) - start) / 1000 )))
done
median_us=$(printf '%s\n' "${samples[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }')
median_ms=$(awk -v u="$median_us" 'BEGIN { printf "%.1f", u / 1000 }')
mark=$(awk -v u="$median_us" -v g="$goal_ms" 'BEGIN { print (u / 1000 < g) ? "pass" : "MISS" }')
echo "warden diff, 1,000 identities, one line changed: median ${median_ms} ms over $rounds rounds (goal < ${goal_ms} ms): $mark"
if [[ -n $raw ]]; then
  for s in "${samples[@]}"; do
    printf 'diff\twarden diff 1000 identities, one line changed (goal < 2000 ms)\tms\t%s\n' "$(awk -v u="$s" 'BEGIN { printf "%.3f", u / 1000 }')" >>"$raw"
  done
fi
