#!/usr/bin/env bash
# Workload overhead for `make bench`: each workload of the matrix (Tests/WardenCLITests/
# Workloads, catalog in Sources/WardenWorkloads) timed bare and under `warden run`,
# interleaved, each run in a fresh copy of the prepared workspace with a fresh HOME and
# TMPDIR (so caches start cold on both sides).
#
#   scripts/bench-workloads.sh WARDEN RAW.tsv
#
# Appends `workload<TAB>NAME: bare|warden run (POLICY)<TAB>s<TAB>SECONDS` rows to RAW.tsv (a
# warden run whose workload fails is `n/a: ...`: its time would measure a failure).
# Knobs: BENCH_WORKLOADS (default "c-make go rust pytest"), BENCH_WORKLOAD_ROUNDS (default
# 5), BENCH_WORKLOAD_POLICY (default test-coverage).
set -euo pipefail
warden=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
raw=$2
[[ -x $warden ]] || { echo "bench: error: $1 is not an executable warden" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures="$root/Tests/WardenCLITests/Workloads"
workloads=${BENCH_WORKLOADS:-c-make go rust pytest}
rounds=${BENCH_WORKLOAD_ROUNDS:-5}
policy=${BENCH_WORKLOAD_POLICY:-test-coverage}
work="$root/bench-results/work/workloads"
say() { echo "bench: $*" >&2; }
rm -rf "$work"
mkdir -p "$work"

# A fresh operator home: a git identity, and rustup's ~/.cargo/bin and default toolchain
# (without its documentation) hard-linked in from the real home, as the matrix suite does.
new_home() {
  mkdir -p "$1"
  printf '[user]\n\tname = Operator\n\temail = operator@example.com\n' >"$1/.gitconfig"
  local tc
  tc=$(sed -n 's/^default_toolchain = "\(.*\)"/\1/p' "$HOME/.rustup/settings.toml" 2>/dev/null) || true
  if [[ -n $tc && -x $HOME/.cargo/bin/cargo ]]; then
    mkdir -p "$1/.cargo" "$1/.rustup/toolchains/$tc" "$1/.rustup/update-hashes"
    cp "$HOME/.rustup/settings.toml" "$1/.rustup/"
    cp -al "$HOME/.cargo/bin" "$1/.cargo/bin" 2>/dev/null || cp -a "$HOME/.cargo/bin" "$1/.cargo/bin"
    for d in bin etc lib libexec; do
      [[ -e $HOME/.rustup/toolchains/$tc/$d ]] || continue
      cp -al "$HOME/.rustup/toolchains/$tc/$d" "$1/.rustup/toolchains/$tc/$d" 2>/dev/null \
        || cp -a "$HOME/.rustup/toolchains/$tc/$d" "$1/.rustup/toolchains/$tc/$d"
    done
  fi
  return 0
}
path_for() { if [[ -d "$1/.cargo/bin" ]]; then echo "$1/.cargo/bin:/usr/local/bin:/usr/bin:/bin"; else echo "/usr/local/bin:/usr/bin:/bin"; fi; }
now() { date +%s.%N; }

for w in $workloads; do
  tpl="$work/$w/template"
  mkdir -p "$tpl"
  new_home "$work/$w/prep-home"
  if ! (cd "$tpl" && env -i PATH="$(path_for "$work/$w/prep-home")" HOME="$work/$w/prep-home" LANG=C.UTF-8 sh "$fixtures/$w/prepare.sh" >"$work/$w/prepare.out" 2>&1); then
    printf 'workload\t%s: bare\ts\tn/a: prepare.sh failed or skipped (%s)\n' "$w" "$(head -c 120 "$work/$w/prepare.out" | tr '\n\t' '  ')" >>"$raw"
    continue
  fi
  # No automatic gc: a detached `git gc --auto` would repack while the template is copied.
  (cd "$tpl" && { [[ -d .git ]] || git init -q -b main; } && git add -A \
    && git -c gc.auto=0 -c user.name=Operator -c user.email=operator@example.com commit -q --allow-empty -m template \
    && git repack -adq)
  script="$(cat "$fixtures/lib.sh" "$fixtures/$w/run.sh"); exit \$failed"
  say "workload $w: bare and under warden run ($policy), $rounds rounds"
  for ((r = 1; r <= rounds; r++)); do
    for variant in $(printf 'bare\nwarden\n' | shuf); do
      run="$work/$w/run-$r-$variant"
      cp -a "$tpl" "$run-ws"
      new_home "$run-home"
      mkdir -p "$run-tmp"
      env_=(env -i PATH="$(path_for "$run-home")" HOME="$run-home" LANG=C.UTF-8)
      start=$(now)
      if [[ $variant == bare ]]; then
        (cd "$run-ws" && "${env_[@]}" TMPDIR="$run-tmp" sh -c "$script" >"$run.out" 2>&1) && rc=0 || rc=$?
      else
        (cd "$run-ws" && "${env_[@]}" "$warden" run -q --policy "$root/policies/$policy.warden" --workspace "$run-ws" \
          --audit-log "$work/$w/audit.jsonl" -- sh -c "$script" >"$run.out" 2>&1) && rc=0 || rc=$?
      fi
      secs=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
      name="bare"; [[ $variant == warden ]] && name="warden run ($policy)"
      if [[ $rc -eq 0 ]]; then
        printf 'workload\t%s: %s\ts\t%s\n' "$w" "$name" "$secs" >>"$raw"
      else
        # The first failed step and its first error line (else its last), e.g. "build: sh: 6: cargo: not found".
        why=$(awk '/^STEP .* [1-9][0-9]*$/ && !s { s = $2; next } s && /^  \| / && !m { l = substr($0, 5); if (l ~ /not permitted|not found|denied|read-only|[Ee]rror:|failed/) m = 1 } s && /^STEP / { exit }
                   END { if (s) printf "%s: %s", s, l }' "$run.out" | tr '\t' ' ' | cut -c1-90) || true
        printf 'workload\t%s: %s\ts\tn/a (fails under the policy) %s\n' "$w" "$name" "${why:-exit $rc: $(tail -n 1 "$run.out" | tr '\t' ' ' | cut -c1-90 || true)}" >>"$raw"
      fi
      rm -rf "$run-ws" "$run-home" "$run-tmp"
    done
  done
done
