#!/usr/bin/env bash
# Network mediation benchmark (not a test): connect latency and local receive throughput,
# without Warden and under `warden run` with a policy that allows the destinations.
# Usage: scripts/bench-network.sh [rounds]   (needs root and a built .build/debug/warden,
# or WARDEN=path/to/warden)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
warden=${WARDEN:-$root/.build/debug/warden}
rounds=${1:-2000}
work=$(mktemp -d /tmp/warden-netbench-XXXXXX)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work" "$work.audit.jsonl"' EXIT
cc -O2 -pthread -o "$work/netprobe" "$root/Tests/RuntimeProbes/netprobe.c"
cat > "$work/server.py" <<'PY'
import socket, sys, threading
def serve(port, payload):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(1024)
    while True:
        c, _ = s.accept()
        if payload:
            block = b"x" * (1 << 20)
            for _ in range(payload): c.sendall(block)
        c.close()
threading.Thread(target=serve, args=(int(sys.argv[1]), 0), daemon=True).start()
serve(int(sys.argv[2]), 1024)
PY
p1=$((20000 + RANDOM % 10000)); p2=$((p1 + 1))
python3 "$work/server.py" "$p1" "$p2" & server=$!
sleep 0.5
cat > "$work/policy.warden" <<EOF2
warden 1
identity bench {
  allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
  allow fs read, exec "\${workspace}"
  allow syscall @default
  allow net connect tcp "127.0.0.1:$p1", "127.0.0.1:$p2"
}
EOF2
run() { "$warden" run -q --policy "$work/policy.warden" --workspace "$work" --audit-log "$work.audit.jsonl" -- "$@"; }
echo "== without Warden"
"$work/netprobe" bench-connect 127.0.0.1 "$p1" "$rounds"
"$work/netprobe" bench-recv 127.0.0.1 "$p2"
echo "== under warden run (mediated)"
run "$work/netprobe" bench-connect 127.0.0.1 "$p1" "$rounds"
run "$work/netprobe" bench-recv 127.0.0.1 "$p2"
