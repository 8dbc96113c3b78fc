#!/usr/bin/env bash
# Audit trail throughput: append (group commit, one write + fdatasync per batch) and verify,
# next to sha256sum over the same file in the same run. Not a test: prints figures.
# Usage: scripts/bench-audit.sh [records] [batch]      (builds the release binary if missing)
set -euo pipefail
records=${1:-200000}
batch=${2:-256}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.build/release/warden"
[[ -x "$bin" ]] || swift build -c release --product warden --package-path "$root" >&2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" audit keygen --output "$dir/k" >/dev/null
echo "== append + verify (warden audit bench, $records records, batch $batch)"
"$bin" audit bench "$dir/audit.jsonl" --records "$records" --batch "$batch" \
  --signing-key "$dir/k.key" --public-key "$dir/k.pub"
bytes=$(stat -c %s "$dir/audit.jsonl")
# Same file, page cache warm for both; 5 rounds each. Wall time is noisy on a shared machine,
# so user CPU time is reported too.
TIMEFORMAT='%U %R'
sha=$( { time (for _ in 1 2 3 4 5; do sha256sum "$dir/audit.jsonl" >/dev/null; done) ; } 2>&1 )
ver=$( { time (for _ in 1 2 3 4 5; do "$bin" audit verify "$dir/audit.jsonl" --public-key "$dir/k.pub" >/dev/null; done) ; } 2>&1 )
awk -v b="$bytes" -v sha="$sha" -v ver="$ver" 'BEGIN {
  split(sha, s, " "); split(ver, v, " ");
  printf "file: %d bytes\n", b
  printf "sha256sum:           %8.1f MB/s wall, %8.1f MB/s per CPU-second\n", 5*b/s[2]/1e6, 5*b/s[1]/1e6
  printf "warden audit verify: %8.1f MB/s wall, %8.1f MB/s per CPU-second (whole process)\n", 5*b/v[2]/1e6, 5*b/v[1]/1e6
  printf "ratio verify/sha256sum: %.2f wall, %.2f CPU\n", s[2]/v[2], s[1]/v[1] }'
