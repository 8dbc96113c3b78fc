#!/usr/bin/env bash
# `make bench`: Warden side by side with what users would pick instead, in one run.
#
# Builds the release binary, installs bubblewrap and firejail when missing (says so), then
# measures, each comparison interleaved and repeated (random order per round, so noise
# hits every variant alike):
#   1. launch of /bin/true: plain, warden run (default policy), bwrap, firejail; then where
#      warden run's time goes, stage by stage (warden run --timings; scripts/bench-src/launch-stages.py)
#   2. syscall cost: getppid, ioctl(FIONREAD), socket+close; plain, allow-all floor,
#      Warden's default policy, Docker's default profile (filters installed in-process)
#   3. filter cost: BPF length and instructions per syscall over scripts/bench-data/syscall-mix.txt
#   4. compile and lint of policies with 10, 100 and 1,000 identities (growth exponent)
#   5. audit append and verify throughput, next to sha256sum over the same file
#   6. network mediation (scripts/bench-network.sh)
#   7. workloads of the matrix (C make, go test, cargo test, pytest) bare and under warden run
#      (scripts/bench-workloads.sh; knobs BENCH_WORKLOADS, BENCH_WORKLOAD_ROUNDS, BENCH_WORKLOAD_POLICY)
#   8. HTTP broker: small GET latency and a 100 MiB download brokered vs direct, and launch of
#      /bin/true for an identity without and with http rules (scripts/bench-broker.sh; knobs
#      BENCH_BROKER_ROUNDS, BENCH_BROKER_REQUESTS, BENCH_BROKER_MIB)
#   9. warden diff of a 1,000-identity policy against a one-line change, with its 2 s goal
#      (scripts/bench-diff.sh; knob BENCH_DIFF_ROUNDS)
#  10. the supervisor over an idle and a busy agent, a denial recorded and answered, one
#      million denials counted, launches per second with 2/8/32 launchers, a 1,000-identity
#      policy at launch (scripts/bench-supervisor.sh; knob BENCH_DENIALS)
# Prints one table, then every goal with its figure and a pass/miss mark, and writes
# bench-results/bench.json (raw samples: bench-results/raw.tsv).
# Knobs: BENCH_ROUNDS (default 30), BENCH_SEED, BENCH_DOCKER_PROFILE (default
# ../shared/reference/docker-default-seccomp.json). Runs as root (apt-get, and warden run's
# mounts); x86_64 only (the recorded syscall mix and the Docker architectures are x86_64's).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="$root/bench-results"
work="$out/work"
src="$root/scripts/bench-src"
rounds=${BENCH_ROUNDS:-30}
seed=${BENCH_SEED:-$(date +%s)}
docker_profile=${BENCH_DOCKER_PROFILE:-$root/../shared/reference/docker-default-seccomp.json}
mix="$root/scripts/bench-data/syscall-mix.txt"
say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 2; }

[[ -f "$docker_profile" ]] || die "Docker's reference profile is missing: expected $docker_profile (the repository's parent directory must contain shared/reference/, or set BENCH_DOCKER_PROFILE)"
[[ $(uname -m) == x86_64 ]] || die "the syscall mix and the Docker comparison are recorded for x86_64; this is $(uname -m)"

# --- tools -----------------------------------------------------------------------------
need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v firejail >/dev/null || need+=(firejail)
command -v sha256sum >/dev/null || need+=(coreutils)
if ((${#need[@]})); then
  [[ $(id -u) -eq 0 ]] || die "missing ${need[*]}; run: sudo apt-get install -y ${need[*]}"
  say "installing ${need[*]} from Debian (apt-get install -y ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

say "building release (swift build -c release --static-swift-stdlib)"
swift build -c release --static-swift-stdlib >&2
warden="$root/.build/release/warden"
[[ -x "$warden" ]] || die "release build did not produce $warden"

rm -rf "$work"
mkdir -p "$work/bin" "$work/workspace"
raw="$out/raw.tsv"
: >"$raw"
cc=${CC:-cc}
$cc -O2 -Wall -o "$work/bin/runner" "$src/runner.c"
$cc -O2 -Wall -o "$work/bin/sysloop" "$src/sysloop.c"
$cc -O2 -Wall -o "$work/bin/bpfcount" "$src/bpfcount.c" -lseccomp
$cc -O2 -Wall -o "$work/bin/docker-bpf" "$src/docker-bpf.c" -lseccomp

# runner samples (NAME ROUND NS STATUS) -> raw rows in milliseconds.
add_runs() { # section file
  awk -F'\t' -v s="$1" '{ printf "%s\t%s\tms\t%.4f\n", s, $1, $3 / 1e6 }' "$2" >>"$raw"
}

# --- 1. launch ---------------------------------------------------------------------------
say "launch: /bin/true plain, under warden run, bwrap, firejail ($rounds rounds)"
spec="$work/launch.spec"
{
  printf 'plain\t/bin/true\n'
  printf 'warden run\t%s\trun\t--policy\t%s\t--workspace\t%s\t--audit-log\t%s\t-q\t--\t/bin/true\n' \
    "$warden" "$root/policies/default.warden" "$work/workspace" "$work/launch-audit.jsonl"
  printf 'bwrap\t%s\t--unshare-all\t--die-with-parent\t--ro-bind\t/usr\t/usr\t--ro-bind\t/bin\t/bin\t--ro-bind\t/lib\t/lib\t--ro-bind\t/lib64\t/lib64\t--ro-bind\t/etc\t/etc\t--proc\t/proc\t--dev\t/dev\t/bin/true\n' "$(command -v bwrap)"
} >"$spec"
firejail_cmd=("$(command -v firejail)" --noprofile --quiet --net=none --private --private-dev --private-tmp --caps.drop=all --nonewprivs /bin/true)
if firejail_err=$("${firejail_cmd[@]}" 2>&1 >/dev/null); then
  (IFS=$'\t'; printf 'firejail\t%s\n' "${firejail_cmd[*]}") >>"$spec"
else
  reason=$(printf '%s' "$firejail_err" | tr '\n\t' '  ' | cut -c1-120)
  printf 'launch\tfirejail\tms\tn/a: %s\n' "${reason:-firejail failed}" >>"$raw"
fi
"$work/bin/runner" "$rounds" "$seed" "$spec" "$work/launch.tsv" || die "a launch variant failed (see above)"
add_runs launch "$work/launch.tsv"
awk -F'\t' '{ printf "launch\t%s (CPU time)\tms\t%.4f\n", $1, $5 / 1e6 }' "$work/launch.tsv" >>"$raw"
say "launch stages: where warden run's milliseconds go (warden run --timings, $rounds rounds)"
python3 "$src/launch-stages.py" "$rounds" "$warden" "$root/policies/default.warden" "$work/workspace" \
  "$work/launch-audit.jsonl" >>"$raw" || die "warden run --timings failed (see above)"

# --- 2. syscall overhead -----------------------------------------------------------------
say "syscall: compiling Warden's default policy and Docker's default profile"
"$warden" compile "$root/policies/default.warden" --emit bpf --no-notify --output "$work/warden.bpf"
# The default policy plus Docker's socket rule, written beside copies of the stock policies
# so its includes resolve.
mkdir -p "$work/policies"
cp "$root"/policies/*.warden "$work/policies/"
awk '{ print } /^  use / && !done { print "  deny  syscall socket(domain == AF_VSOCK) because \"the same domain check as Docker'"'"'s profile\""; done = 1 }' \
  "$root/policies/default.warden" >"$work/policies/socket.warden"
grep -q AF_VSOCK "$work/policies/socket.warden" || die "could not write the socket-rule policy (no \`use\` line in policies/default.warden)"
"$warden" compile "$work/policies/socket.warden" --emit bpf --no-notify --output "$work/warden-socket.bpf"
python3 "$src/docker-rules.py" "$docker_profile" >"$work/docker.rules"
"$work/bin/docker-bpf" "$work/docker.rules" "$work/docker.bpf"

srounds=$rounds
say "syscall: tight loops, $srounds rounds"
declare -A iters=([getppid]=60000 [ioctl]=60000 [socket]=3000)
declare -A label=([getppid]="getppid" [ioctl]="ioctl FIONREAD" [socket]="socket+close")
declare -A filt=([plain]=none [allow-all]=allow-all [warden default]="$work/warden.bpf"
                 [warden socket rule]="$work/warden-socket.bpf" [docker default]="$work/docker.bpf")
cases=()
for k in getppid ioctl socket; do
  for f in plain allow-all "warden default" "docker default"; do cases+=("$k|$f"); done
done
cases+=("socket|warden socket rule")
for ((r = 0; r <= srounds; r++)); do
  while IFS= read -r c; do
    k=${c%%|*}; f=${c#*|}
    ns=$("$work/bin/sysloop" "${filt[$f]}" "$k" "${iters[$k]}") || die "sysloop $k under $f failed"
    if ((r > 0)); then printf 'syscall\t%s: %s\tns/call\t%s\n' "${label[$k]}" "$f" "$ns" >>"$raw"; fi
  done < <(printf '%s\n' "${cases[@]}" | shuf --random-source=<(yes "$seed$r"))
done

# --- 3. filter cost ------------------------------------------------------------------------
say "filter: instructions per syscall over $(basename "$mix")"
for f in "warden default:$work/warden.bpf" "docker default:$work/docker.bpf"; do
  name=${f%%:*}
  "$work/bin/bpfcount" "${f#*:}" "$mix" >"$work/count.txt"
  get() { sed -n "s/^$1=//p" "$work/count.txt"; }
  printf 'filter\t%s: BPF length\tinstructions\t%s\n' "$name" "$(get length)" >>"$raw"
  printf 'filter\t%s: mean instructions/syscall\tinstructions\t%s\n' "$name" "$(get mean)" >>"$raw"
  printf 'filter\t%s: mean instructions/syscall after kernel cache\tinstructions\t%s\n' "$name" "$(get mean_cached)" >>"$raw"
  printf 'filter\t%s: calls allowed\t%%\t%s\n' "$name" "$(awk -v x="$(get allowed_fraction)" 'BEGIN{print x*100}')" >>"$raw"
done

# --- 4. compile and lint -----------------------------------------------------------------
crounds=$(((rounds + 1) / 2))
say "compile: policies with 10, 100, 1000 identities ($crounds rounds)"
spec="$work/compile.spec"
printf 'startup floor (warden --version)\t%s\t--version\n' "$warden" >"$spec"
for n in 10 100 1000; do
  python3 "$src/gen-policy.py" "$n" "$work/policy-$n.warden"
  "$warden" lint "$work/policy-$n.warden" >/dev/null 2>"$work/lint-$n.err" || die "generated policy $n does not lint: $(head -5 "$work/lint-$n.err")"
  printf 'lint %s identities\t%s\tlint\t%s\n' "$n" "$warden" "$work/policy-$n.warden" >>"$spec"
  id=$(sed -n 's/^identity \([^ ]*\) {$/\1/p' "$work/policy-$n.warden" | sed -n "$((n / 2 + 1))p")
  printf 'compile one identity %s identities\t%s\tcompile\t%s\t--identity\t%s\t--emit\tplan\n' "$n" "$warden" "$work/policy-$n.warden" "$id" >>"$spec"
done
"$work/bin/runner" "$crounds" "$seed" "$spec" "$work/compile.tsv" 2>"$work/compile.err" || die "compile/lint failed: $(head -5 "$work/compile.err")"
awk -F'\t' '{ printf "compile\t%s\tms\t%.4f\n", $1, $3 / 1e6 }' "$work/compile.tsv" >>"$raw"

# --- 5. audit ------------------------------------------------------------------------------
arounds=5
say "audit: append and verify throughput ($arounds rounds), sha256sum over the same file"
"$warden" audit keygen --output "$work/audit" >/dev/null 2>&1 || die "warden audit keygen failed"
for ((r = 1; r <= arounds; r++)); do
  rm -f "$work/audit-$r.jsonl"
  "$warden" audit bench "$work/audit-$r.jsonl" --records 50000 --batch 256 \
    --signing-key "$work/audit.key" --public-key "$work/audit.pub" >"$work/audit-bench.txt"
  sed -n 's/^append: .* \([0-9]*\) records\/s$/audit\tappend (batches of 256, signed checkpoints)\trecords\/s\t\1/p' "$work/audit-bench.txt" >>"$raw"
  sed -n 's/^verify: .* \([0-9.]*\) MB\/s, status .*$/audit\tverify (in process)\tMB\/s\t\1/p' "$work/audit-bench.txt" >>"$raw"
done
log="$work/audit-1.jsonl"
bytes=$(stat -c %s "$log")
spec="$work/audit.spec"
printf 'verify (whole process)\t%s\taudit\tverify\t%s\t--public-key\t%s\n' "$warden" "$log" "$work/audit.pub" >"$spec"
printf 'sha256sum\t%s\t%s\n' "$(command -v sha256sum)" "$log" >>"$spec"
"$work/bin/runner" "$rounds" "$seed" "$spec" "$work/audit.tsv" || die "audit verify or sha256sum failed"
awk -F'\t' -v b="$bytes" '{ printf "audit\t%s\tMB/s\t%.2f\n", $1, b / 1e6 / ($3 / 1e9) }' "$work/audit.tsv" >>"$raw"
printf 'audit\tlog size\tMB\t%.2f\n' "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')" >>"$raw"

# --- 6. network ----------------------------------------------------------------------------
say "network: connect latency and a 1 GiB loopback transfer, without Warden and mediated"
if net_out=$(WARDEN="$warden" "$root/scripts/bench-network.sh" 2000 2>&1); then
  awk -F= '
    /^== without/ { side = "without Warden" } /^== under/ { side = "mediated (warden run)" }
    $1 == "connect_us"     { printf "network\tconnect+close: %s\tus\t%s\n", side, $2 }
    $1 == "recv_mib_per_s" { printf "network\treceive 1 GiB: %s\tMiB/s\t%s\n", side, $2 }' <<<"$net_out" >>"$raw"
else
  printf 'network\tconnect latency and local transfer under mediation\t-\tn/a (scripts/bench-network.sh failed)\n' >>"$raw"
  say "network bench failed: $(tail -n 3 <<<"$net_out")"
fi

# --- 7. workloads ----------------------------------------------------------------------------
say "workloads: C make, go test, cargo test, pytest, bare and under warden run (scripts/bench-workloads.sh)"
"$root/scripts/bench-workloads.sh" "$warden" "$raw" || say "workload bench failed (see above)"

# --- 8. HTTP broker ---------------------------------------------------------------------------
say "broker: brokered vs direct requests and download, launch with and without http rules (scripts/bench-broker.sh)"
"$root/scripts/bench-broker.sh" "$warden" "$raw" || say "broker bench failed (see above)"

# --- 9. policy diff ---------------------------------------------------------------------------
say "diff: 1,000 identities, one line changed (scripts/bench-diff.sh)"
"$root/scripts/bench-diff.sh" "$warden" "$raw" >&2 || say "diff bench failed (see above)"

# --- 10. supervisor, denials, scale ------------------------------------------------------------
say "supervisor: idle and busy agent, denials, launch scale, 1,000 identities (scripts/bench-supervisor.sh)"
"$root/scripts/bench-supervisor.sh" "$warden" "$raw" "$(((rounds + 2) / 3))" "$seed" || say "supervisor bench failed (see above)"

# --- report ----------------------------------------------------------------------------------
python3 - "$out/machine.json" "$rounds" "$seed" <<'PY'
import json, os, subprocess, sys, datetime
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
json.dump({"cpu": cpu, "nproc": os.cpu_count(), "kernel": os.uname().release,
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "rounds": int(sys.argv[2]), "seed": sys.argv[3], "command": "make bench"}, open(sys.argv[1], "w"))
PY
python3 "$src/report.py" "$raw" "$out/machine.json" "$out/bench.json"
say "wrote $out/bench.json"
