#!/usr/bin/env bash
# HTTP broker benchmark for `make bench` (section 8), runnable alone:
#
#   scripts/bench-broker.sh WARDEN RAW.tsv
#
# Starts the broker test fixtures on loopback (Tests/WardenCLITests/BrokerFixtures: a test CA,
# a recording HTTPS server with two ports, a DNS upstream answering *.broker.test with
# 127.0.0.1), then measures, all in the same run and interleaved:
#   - a small GET (keep-alive, and on a fresh connection each) and a 100 MiB download, through
#     the broker and directly to the same server from the same agent (one `warden run` of
#     BrokerFixtures/bench_agent.py; see it for the method);
#   - `warden run /bin/true` for an identity without http rules and for the same identity
#     plus a secret and one `allow https ... with bearer` rule (broker started, CA bundle in
#     the world, token issued).
# Appends `broker<TAB>NAME<TAB>UNIT<TAB>VALUE` rows to RAW.tsv (`n/a: reason` when a part
# cannot run). Knobs: BENCH_BROKER_ROUNDS (default 5), BENCH_BROKER_REQUESTS (default 50
# per variant and round), BENCH_BROKER_MIB (default 100), BENCH_ROUNDS (launch rounds,
# default 30), BENCH_SEED. Needs root (warden run), python3, openssl, cc.
set -euo pipefail
warden=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
raw=$2
[[ -x $warden ]] || { echo "bench: error: $1 is not an executable warden" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures="$root/Tests/WardenCLITests/BrokerFixtures"
rounds=${BENCH_BROKER_ROUNDS:-5}
requests=${BENCH_BROKER_REQUESTS:-50}
mib=${BENCH_BROKER_MIB:-100}
launch_rounds=${BENCH_ROUNDS:-30}
seed=${BENCH_SEED:-$(date +%s)}
say() { echo "bench: $*" >&2; }
na() { printf 'broker\t%s\t%s\tn/a: %s\n' "$1" "$2" "$3" >>"$raw"; }

work=$(mktemp -d /tmp/warden-brokerbench-XXXXXX)
host="$work/host"     # certificates and server logs: never granted to the agent
ws="$work/workspace"
mkdir -p "$host" "$ws"
chmod 700 "$host"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work" "$work".*.jsonl
}
trap cleanup EXIT

# A fixture server: started with its stdin on a FIFO we hold open; prints port=P lines then ready.
start_fixture() { # NAME ARGS...
  local name=$1; shift
  mkfifo "$work/$name.in"
  python3 "$@" <"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  exec {fd}>"$work/$name.in"
  for _ in $(seq 100); do grep -q '^ready$' "$work/$name.out" 2>/dev/null && return 0; sleep 0.1; done
  say "fixture $name did not start: $(head -c 300 "$work/$name.err")"
  return 1
}

sh "$fixtures/make-certs.sh" "$host/pki"
cp "$host/pki/ca.pem" "$ws/upstream-ca.pem"
cp "$fixtures/bench_agent.py" "$ws/bench_agent.py"  # the agent sees its workspace, not the repository
start_fixture https "$fixtures/https_server.py" --cert "$host/pki/server.pem" --key "$host/pki/server.key" \
  --log "$host/https.jsonl" --ports 2
start_fixture dns "$fixtures/dns_upstream.py" 127.0.0.29
port=$(sed -n 's/^port=//p' "$work/https.out" | sed -n 1p)
direct=$(sed -n 's/^port=//p' "$work/https.out" | sed -n 2p)
dns_port=$(sed -n 's/^port=//p' "$work/dns.out")
export WARDEN_BROKER_UPSTREAM_CA="$host/pki/ca.pem" WARDEN_DNS_UPSTREAM="127.0.0.29:$dns_port" \
  WARDEN_DNS_ALLOW_LOCAL_ANSWERS=1 WARDEN_BENCH_TOKEN="bench-secret-$RANDOM$RANDOM"

body='  allow fs read, exec "/usr", "/bin", "/lib", "/lib64", "/sbin"
  allow fs read "/etc"
  allow fs read, write, exec "${workspace}"
  allow syscall @default
  env pass PATH, HOME'
cat >"$work/plain.warden" <<EOF
warden 1
identity bench {
$body
}
EOF
cat >"$work/http.warden" <<EOF
warden 1
secret bench-token from env "WARDEN_BENCH_TOKEN"
identity bench {
$body
  allow https GET "api.broker.test:$port/**" with bearer bench-token
  allow net connect tcp "api.broker.test:$direct"
}
EOF

# --- requests and download, brokered vs direct --------------------------------------------------
say "broker: small GET latency and a $mib MiB download, brokered vs direct ($rounds rounds, $requests requests each)"
if "$warden" run -q --policy "$work/http.warden" --workspace "$ws" --audit-log "$work.req.jsonl" -- \
    /usr/bin/python3 "$ws/bench_agent.py" "$port" "$direct" "$ws/upstream-ca.pem" "$rounds" "$requests" "$mib" "$seed" \
    >"$work/requests.tsv" 2>"$work/requests.err"; then
  awk -F'\t' '{ printf "broker\t%s\t%s\t%s\n", $1, $2, $3 }' "$work/requests.tsv" >>"$raw"
else
  reason=$(tail -n 3 "$work/requests.err" | tr '\n\t' '  ' | cut -c1-160)
  for side in direct brokered; do
    na "small GET (keep-alive): $side" ms "$reason"
    na "download $mib MiB: $side" MB/s "$reason"
  done
  say "broker request bench failed: $reason"
fi

# --- launch cost ---------------------------------------------------------------------------------
say "broker: warden run /bin/true, identity without and with http rules ($launch_rounds rounds)"
cc -O2 -Wall -o "$work/runner" "$root/scripts/bench-src/runner.c"
spec="$work/launch.spec"
printf 'warden run /bin/true: no http rules\t%s\trun\t-q\t--policy\t%s\t--workspace\t%s\t--audit-log\t%s\t--\t/bin/true\n' \
  "$warden" "$work/plain.warden" "$ws" "$work.plain.jsonl" >"$spec"
printf 'warden run /bin/true: with http rules (broker)\t%s\trun\t-q\t--policy\t%s\t--workspace\t%s\t--audit-log\t%s\t--\t/bin/true\n' \
  "$warden" "$work/http.warden" "$ws" "$work.http.jsonl" >>"$spec"
if "$work/runner" "$launch_rounds" "$seed" "$spec" "$work/launch.tsv" 2>"$work/launch.err"; then
  awk -F'\t' '{ printf "broker\t%s\tms\t%.4f\n", $1, $3 / 1e6 }' "$work/launch.tsv" >>"$raw"
  awk -F'\t' '{ printf "broker\t%s (CPU time)\tms\t%.4f\n", $1, $5 / 1e6 }' "$work/launch.tsv" >>"$raw"
else
  reason=$(tail -n 3 "$work/launch.err" | tr '\n\t' '  ' | cut -c1-160)
  na "warden run /bin/true: with http rules (broker)" ms "$reason"
  say "broker launch bench failed: $reason"
fi
